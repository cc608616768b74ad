"""Getting data in: reading CRM files, checking and loading them, data quality, geocoding."""
