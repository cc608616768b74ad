"""Column recognition: Salesforce, HubSpot and plain names, case- and space-insensitive."""

import pytest

from territory.data.fields import guess_mapping, normalise, validate_mapping
from territory.errors import ValidationError


def test_normalise():
    assert normalise(" State/Region ") == "stateregion" == normalise("STATE_REGION")


def test_salesforce_account_columns():
    cols = ["Id", "Name", "Type", "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode",
            "BillingCountry", "BillingLatitude", "BillingLongitude", "Industry", "AnnualRevenue",
            "NumberOfEmployees", "OwnerId", "Rating"]
    mapping = guess_mapping(cols, "accounts")
    assert len(mapping) == len(cols)
    assert mapping["lat"] == "BillingLatitude" and mapping["employees"] == "NumberOfEmployees"


def test_salesforce_opportunity_columns():
    mapping = guess_mapping(["Id", "AccountId", "StageName", "Amount", "Probability", "CloseDate"], "opportunities")
    assert mapping == {"opportunity_id": "Id", "account_id": "AccountId", "stage": "StageName",
                       "amount": "Amount", "probability": "Probability", "close_date": "CloseDate"}


def test_unrecognised_columns_are_left_out():
    assert guess_mapping(["Id", "Favourite colour"], "reps") == {"rep_id": "Id"}


def test_missing_required_columns():
    with pytest.raises(ValidationError) as info:
        validate_mapping({"name": "Name"}, "accounts", columns=["Name", "Notes"])
    assert "account_id" in str(info.value) and "Name -> name" in str(info.value)
    assert {p.column for p in info.value.problems} == {"account_id", "lat+lng, postal_code or city+state"}


def test_override_of_a_column_not_in_the_file():
    with pytest.raises(ValidationError, match="is not a column of the file"):
        guess_mapping(["Id"], "accounts", overrides={"Nope": "name"})
