"""``sessionlens.params``: Kedro's ``--params`` syntax, read and written back."""

from __future__ import annotations

import pytest

from sessionlens.params import ParamsError, command_with_params, format_params, parse_params


def test_parse_params_both_forms_and_json_scalars() -> None:
    assert parse_params("scale=3,offset=100") == {"scale": 3, "offset": 100}
    assert parse_params("scale:3, fail:true,name:abc,ratio=0.5,none=null") == {
        "scale": 3,
        "fail": True,
        "name": "abc",
        "ratio": 0.5,
        "none": None,
    }
    assert parse_params('url=http://x:8080/a,when:12:30,q="3"') == {
        "url": "http://x:8080/a",
        "when": "12:30",
        "q": "3",
    }
    assert parse_params("x=NaN,y=[1],z=") == {"x": "NaN", "y": "[1]", "z": ""}
    assert parse_params("") == {}


@pytest.mark.parametrize("text", ["scale", "=3", "a=1,oops"])
def test_parse_params_errors_are_one_line(text: str) -> None:
    with pytest.raises(ParamsError) as info:
        parse_params(text)
    assert "\n" not in str(info.value)


def test_kedro_run_gets_params_other_commands_do_not() -> None:
    params = {"scale": 3, "fail": True, "name": "a b"}
    assert format_params(params) == "scale=3,fail=true,name=a b"
    assert command_with_params(["kedro", "run"], params) == [
        "kedro",
        "run",
        "--params",
        "scale=3,fail=true,name=a b",
    ]
    assert command_with_params(["python", "main.py"], params) == ["python", "main.py"]
    assert command_with_params(["kedro", "run"], {}) == ["kedro", "run"]
