"""What each importable dataset holds, and the column names CRMs use for it.

A file column is matched to a field by its normalised name (lower case, letters and digits
only), so ``"Record ID"``, ``record_id`` and ``RecordId`` are all the same. The aliases cover
Salesforce exports, HubSpot exports and plain names; an explicit mapping overrides the guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from territory.errors import Problem, ValidationError


class Kind(StrEnum):
    ID = "id"  # non-empty text, unique within the file
    TEXT = "text"
    NUMBER = "number"  # >= 0; currency text ("$1,200,000") is parsed
    LAT = "lat"
    LNG = "lng"
    ZIP = "zip"
    PERCENT = "percent"  # 0..100 (0..1 is read as a fraction)
    DATE = "date"
    BOOL = "bool"


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = False


def normalise(name: str) -> str:
    """``"State/Region"`` -> ``"stateregion"``; how file headers and aliases are compared."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


ACCOUNTS = (
    Field("account_id", Kind.ID, ("id", "accountid", "recordid", "companyid"), required=True),
    Field("name", Kind.TEXT, ("name", "accountname", "companyname", "company"), required=True),
    Field("type", Kind.TEXT, ("type", "accounttype", "lifecyclestage")),
    Field("street", Kind.TEXT, ("billingstreet", "street", "address", "streetaddress")),
    Field("city", Kind.TEXT, ("billingcity", "city")),
    Field("state", Kind.TEXT, ("billingstate", "state", "stateregion", "region")),
    Field("postal_code", Kind.ZIP, ("billingpostalcode", "postalcode", "zip", "zipcode")),
    Field("country", Kind.TEXT, ("billingcountry", "country", "countryregion")),
    Field("lat", Kind.LAT, ("billinglatitude", "latitude", "lat")),
    Field("lng", Kind.LNG, ("billinglongitude", "longitude", "lng", "lon", "long")),
    Field("industry", Kind.TEXT, ("industry",)),
    Field("annual_revenue", Kind.NUMBER, ("annualrevenue", "revenue")),
    Field("employees", Kind.NUMBER, ("numberofemployees", "employees")),
    Field("owner_id", Kind.TEXT, ("ownerid", "companyowner", "owner", "accountowner")),
    Field("owner_name", Kind.TEXT, ("ownername", "accountownername", "companyownername", "ownerfullname")),
    Field("rating", Kind.TEXT, ("rating",)),
    Field("tier", Kind.TEXT, ("tier", "sizetier")),
    Field("potential", Kind.NUMBER, ("potential", "salespotential", "salespotentialc", "potentialc")),
)

REPS = (
    Field("rep_id", Kind.ID, ("id", "repid", "userid", "ownerid"), required=True),
    Field("name", Kind.TEXT, ("name", "fullname", "repname"), required=True),
    Field("email", Kind.TEXT, ("email",)),
    Field("home_lat", Kind.LAT, ("homelatitude", "homelat", "latitude", "lat")),
    Field("home_lng", Kind.LNG, ("homelongitude", "homelng", "homelon", "longitude", "lng", "lon")),
    Field("home_zip", Kind.ZIP, ("homepostalcode", "homezip", "postalcode", "zip")),
    Field("home_city", Kind.TEXT, ("homecity", "city")),
    Field("home_state", Kind.TEXT, ("homestate", "state")),
    Field("skills", Kind.TEXT, ("skills", "industries", "industryskills")),
    Field("capacity_hours", Kind.NUMBER, ("capacityhours", "capacity")),
    Field("quota", Kind.NUMBER, ("quota", "annualquota")),
    Field("region", Kind.TEXT, ("region",)),
    Field("district", Kind.TEXT, ("district",)),
)

OPPORTUNITIES = (
    Field("opportunity_id", Kind.ID, ("id", "opportunityid", "recordid", "dealid"), required=True),
    Field(
        "account_id",
        Kind.TEXT,
        ("accountid", "associatedcompanyid", "associatedcompanyids", "companyid"),
        required=True,
    ),
    Field("name", Kind.TEXT, ("name", "opportunityname", "dealname")),
    Field("stage", Kind.TEXT, ("stagename", "stage", "dealstage"), required=True),
    Field("amount", Kind.NUMBER, ("amount",), required=True),
    Field("probability", Kind.PERCENT, ("probability", "probabilitypercent", "dealprobability")),
    Field("close_date", Kind.DATE, ("closedate",)),
    Field("owner_id", Kind.TEXT, ("ownerid", "dealowner", "owner")),
    Field("is_closed", Kind.BOOL, ("isclosed", "closed")),
    Field("is_won", Kind.BOOL, ("iswon", "won")),
)

REVENUE = (
    Field("account_id", Kind.TEXT, ("accountid", "recordid", "companyid", "id"), required=True),
    Field("month", Kind.DATE, ("month", "period", "date"), required=True),
    Field("revenue", Kind.NUMBER, ("revenue", "amount", "bookedrevenue"), required=True),
)

DATASETS: dict[str, tuple[Field, ...]] = {
    "accounts": ACCOUNTS,
    "reps": REPS,
    "opportunities": OPPORTUNITIES,
    "revenue": REVENUE,
}


def guess_mapping(
    columns: list[str], dataset: str, *, overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """Map file columns to fields: ``{field: column}``.

    ``overrides`` is ``{column: field}`` as a person writes it (``--map Acct=account_id``); an
    override wins over any guess, and a column mapped to ``""`` or ``"-"`` is ignored.
    """
    fields = {f.name: f for f in DATASETS[dataset]}
    overrides = dict(overrides or {})
    problems = [
        Problem(None, col, None, f"is not a column of the file (columns: {', '.join(columns)})")
        for col in overrides
        if col not in columns
    ] + [
        Problem(None, col, fld, f"is not a field of {dataset} (fields: {', '.join(fields)})")
        for col, fld in overrides.items()
        if fld not in fields and fld not in ("", "-")
    ]
    if problems:
        raise ValidationError("the column mapping does not fit the file", problems)
    mapping = {fld: col for col, fld in overrides.items() if fld in fields}
    for col in columns:
        if col in overrides:
            continue
        key = normalise(col)
        for f in DATASETS[dataset]:
            if f.name not in mapping and (key == normalise(f.name) or key in f.aliases):
                mapping[f.name] = col
                break
    return mapping


def validate_mapping(mapping: dict[str, str], dataset: str, *, columns: list[str]) -> None:
    """Raise when a required field has no column; say which columns were recognised."""
    missing = [f.name for f in DATASETS[dataset] if f.required and f.name not in mapping]
    located = {"lat", "lng"} <= mapping.keys() or "postal_code" in mapping or {"city", "state"} <= mapping.keys()
    if dataset in ("accounts",) and not located:
        missing.append("lat+lng, postal_code or city+state")
    if not missing:
        return
    seen = ", ".join(f"{c} -> {f}" for f, c in mapping.items()) or "none"
    raise ValidationError(
        f"the {dataset} file lacks required columns: {', '.join(missing)}. "
        f"Recognised: {seen}. File columns: {', '.join(columns)}. "
        "Rename the columns or map them explicitly (--map COLUMN=FIELD)",
        [Problem(None, m, None, "required column is missing") for m in missing],
    )


def field_list(dataset: str, mapping: dict[str, str]) -> list[Field]:
    """The dataset's fields that ``mapping`` maps to a file column, in the dataset's order."""
    return [f for f in DATASETS[dataset] if f.name in mapping]
