"""What draws maps: folium layers and the Designer's map."""
