import pytest

from models.errors import ValidationFailed
from models.users import rules


@pytest.mark.parametrize("email", ["ada@example.com", "a.b+tag@sub.example.co.uk"])
def test_valid_emails_are_normalized_to_lower_case(email):
    assert rules.normalize_email(f"  {email.upper()} ", field=["email"]) == email.lower()


@pytest.mark.parametrize(
    "email",
    ["", "no-at-sign", "a@b", "a@@b.com", "a b@c.com", "x" * 65 + "@example.com", "a@-bad-.com"],
)
def test_invalid_emails_are_refused_with_the_field(email):
    with pytest.raises(ValidationFailed) as error:
        rules.normalize_email(email, field=["input", "email"])
    assert error.value.field == ["input", "email"]


@pytest.mark.parametrize(
    "password", ["short", "password123", "aaaaaaaaaaaa", "x" * 129, "adalovelace-rocks"]
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationFailed):
        rules.check_password(password, email="adalovelace@example.com", field=["password"])


def test_a_reasonable_password_passes():
    rules.check_password("correct-horse-battery", email="ada@example.com", field=["password"])


def test_display_names_are_trimmed_and_bounded():
    assert rules.clean_display_name("  Ada   Lovelace ", field=["n"]) == "Ada Lovelace"
    with pytest.raises(ValidationFailed):
        rules.clean_display_name("   ", field=["n"])
    with pytest.raises(ValidationFailed):
        rules.clean_display_name("x" * 81, field=["n"])
