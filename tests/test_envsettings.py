"""Settings from the environment: parsed once, and a bad value named in one line."""

import pytest

from linkcrawler.config import env_bool, env_float, env_int, env_list, env_str
from linkcrawler.errors import UserError


def test_unset_and_blank_variables_give_the_default(monkeypatch):
    monkeypatch.setenv("LC_BLANK", "  ")
    monkeypatch.delenv("LC_UNSET", raising=False)
    assert env_int("LC_BLANK", 7) == 7 and env_str("LC_UNSET", "d") == "d" and env_list("LC_BLANK", ["x"]) == ["x"]


def test_values_are_parsed(monkeypatch):
    monkeypatch.setenv("LC_INT", " 42 ")
    monkeypatch.setenv("LC_FLOAT", "0.5")
    monkeypatch.setenv("LC_BOOL", "Yes")
    monkeypatch.setenv("LC_LIST", "a.com, b.org,,")
    assert env_int("LC_INT", 0) == 42
    assert env_float("LC_FLOAT", 0.0) == 0.5
    assert env_bool("LC_BOOL", False) is True
    assert env_list("LC_LIST", []) == ["a.com", "b.org"]


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (env_int, "12k", "is not a whole number"),
        (env_float, "fast", "is not a number"),
        (env_bool, "maybe", "is not a boolean"),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch, reader, value, message):
    monkeypatch.setenv("LC_BAD", value)
    with pytest.raises(UserError, match=f"LC_BAD='{value}' {message}"):
        reader("LC_BAD", None)
