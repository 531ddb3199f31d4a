"""Library messages by key: the English templates, their Chinese translation, and every raise."""

import ast
import pickle
import re
import string
import tomllib
from pathlib import Path

import numpy as np
import pytest

from pooling_core import PoolingError, load_image, parse_grid, pool2d, pyramid_levels
from pooling_core.messages import MESSAGES

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "pooling_core"
CHINESE = tomllib.loads((ROOT / "pages/ui/i18n/zh_messages.toml").read_text(encoding="utf-8"))
CJK = re.compile(r"[\u4e00-\u9fff]")
TEXTBOOK = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_template_formats_with_its_own_placeholders(key):
    template = MESSAGES[key]
    specs = [(spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template) if name]
    # Fields arrive formatted, so a translation never has to repeat a format spec.
    assert all(spec == "" and conversion is None for spec, conversion in specs)
    fields = {name: f"<{name}>" for name in placeholders(template)}
    sentence = template.format(**fields)
    assert all(f"<{name}>" in sentence for name in fields)
    assert "{" not in sentence and "}" not in sentence


def test_chinese_catalog_has_every_key_and_no_other():
    assert set(CHINESE) == set(MESSAGES)


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_chinese_template_has_the_same_placeholders_and_is_chinese(key):
    translation = CHINESE[key]
    assert isinstance(translation, str) and translation.strip()
    assert placeholders(translation) == placeholders(MESSAGES[key])
    assert CJK.search(translation)
    translation.format(**{name: 1 for name in placeholders(translation)})


def library_calls():
    """Every ``PoolingError(...)`` call in the library, with its file."""
    for path in sorted(LIBRARY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PoolingError":
                yield path.relative_to(ROOT), node


def test_every_raise_names_a_key():
    calls = list(library_calls())
    scanned = {path.as_posix().removeprefix("pooling_core/") for path, _ in calls}
    assert scanned >= {"api.py", "examples.py", "geometry.py", "inputs.py", "neighbours.py", "pyramid.py",
                       "registry.py", "operators/blur.py", "operators/fractional.py", "operators/stochastic.py"}
    for path, call in calls:
        where = f"{path}:{call.lineno}"
        assert len(call.args) == 1, where
        (key,) = call.args
        if isinstance(key, ast.Constant):
            assert key.value in MESSAGES, where
        else:
            # A key chosen by a condition or handed in by the caller (e.g. pair(value, error_key)).
            assert isinstance(key, (ast.Name, ast.IfExp, ast.Subscript)), where
        assert not any(isinstance(node, ast.JoinedStr) for node in ast.walk(key)), where


def test_every_key_named_in_the_library_exists_and_every_template_is_used():
    prefixes = {key.split(".")[0] for key in MESSAGES}
    named = set()
    for path in LIBRARY.rglob("*.py"):
        if path.name == "messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", node.value) and node.value.split(".")[0] in prefixes:
                named.add(node.value)
    assert named - set(MESSAGES) == set()
    assert set(MESSAGES) - named == set()


def raised(call) -> PoolingError:
    with pytest.raises(PoolingError) as info:
        call()
    err = info.value
    assert set(err.fields) == placeholders(MESSAGES[err.key])
    assert all(type(value) in (int, float, str) for value in err.fields.values())
    return err


def test_padding_too_large_end_to_end():
    err = raised(lambda: pool2d(TEXTBOOK, "max", kernel_size=2, padding=2))
    assert err.key == "geometry.padding_too_large"
    assert err.fields == {"padding": 2, "kernel": 2, "limit": 1}
    assert str(err) == "padding 2 is more than half the kernel 2; PyTorch allows at most 1."
    assert CHINESE[err.key].format(**err.fields) == "填充 2 超过了卷积核 2 的一半；PyTorch 最多允许 1。"
    assert isinstance(err, ValueError)


def test_bad_grid_carries_its_line_and_token():
    err = raised(lambda: parse_grid("1 2\n3 x"))
    assert (err.key, err.fields) == ("grid.not_a_number", {"token": "x", "line": 2})
    assert str(err) == "'x' on line 2 is not a number."
    assert CHINESE[err.key].format(**err.fields) == "第 2 行的 'x' 不是数字。"


def test_bad_token_in_a_bracketed_row_carries_row_and_line():
    err = raised(lambda: parse_grid("[[1, 2], [3, 'a']]"))
    assert (err.key, err.fields) == ("grid.not_a_number_in_row", {"token": "'a'", "row": 2, "line": 1})
    assert str(err) == "''a'' on row 2 of line 1 is not a number."
    assert CHINESE[err.key].format(**err.fields) == "第 1 行中第 2 个方括号里的 ''a'' 不是数字。"


def test_long_token_is_cut_in_the_field():
    err = raised(lambda: parse_grid("1 " + "x" * 30))
    assert err.fields == {"token": "x" * 20 + "...", "line": 1}


@pytest.mark.parametrize("text, key, fields, sentence", [
    ("1 2\n3", "grid.ragged.one_value.line_vs_line", {"line": 2, "values": 1, "first_line": 1, "first_values": 2},
     "Line 2 has 1 value, line 1 has 2; every row needs the same number of values."),
    ("[1 2] [3 4]\n5 6 7", "grid.ragged.line_vs_row",
     {"line": 2, "values": 3, "first_line": 1, "first_row": 1, "first_values": 2},
     "Line 2 has 3 values, row 1 of line 1 has 2; every row needs the same number of values."),
    ("[1 2] [3]", "grid.ragged.one_value.row_vs_row",
     {"row": 2, "line": 1, "values": 1, "first_row": 1, "first_line": 1, "first_values": 2},
     "Row 2 of line 1 has 1 value, row 1 of line 1 has 2; every row needs the same number of values."),
])
def test_ragged_grid_has_one_template_per_case(text, key, fields, sentence):
    err = raised(lambda: parse_grid(text))
    assert (err.key, err.fields, str(err)) == (key, fields, sentence)


def test_refused_upload_end_to_end():
    err = raised(lambda: load_image(b"not an image"))
    assert (err.key, err.fields) == ("image.unreadable", {})
    assert str(err) == "The file is not an image PoolScope can read; upload a PNG, JPEG, WebP, BMP or GIF file."
    assert CHINESE[err.key] == "PoolScope 读不了这个文件；请上传 PNG、JPEG、WebP、BMP 或 GIF 格式的图像。"


def test_oversized_upload_gives_its_size_in_mb():
    err = raised(lambda: load_image(b"\0" * (20 * 2**20 + 1)))
    assert (err.key, err.fields) == ("image.file_too_large", {"size": "20.1", "limit": 20})
    assert str(err) == "The file is 20.1 MB; at most 20 MB can be uploaded."


@pytest.mark.parametrize("call, key, fields", [
    (lambda: pool2d(TEXTBOOK, "lp", p=0), "param.not_at_least", {"op": "lp", "param": "p", "low": "1", "value": "0"}),
    (lambda: pool2d(TEXTBOOK, "fractional_max", output_ratio=1.5), "param.not_between_open",
     {"op": "fractional_max", "param": "output_ratio", "low": "0", "high": "1", "value": "1.5"}),
    (lambda: pool2d(TEXTBOOK, "max", foo=1), "operator.unknown_param_none", {"op": "max", "param": "'foo'"}),
    (lambda: pool2d(TEXTBOOK, "max", stride=1.5), "geometry.stride_not_whole", {"value": "1.5"}),
    (lambda: pyramid_levels((4, 4), levels=(2, 1.5)), "pyramid.levels_not_whole", {"value": "(2, 1.5)"}),
])
def test_raises_choose_the_key_of_their_case(call, key, fields):
    err = raised(call)
    assert (err.key, err.fields) == (key, fields)


def test_error_survives_pickling():
    err = raised(lambda: parse_grid("1 2\n3 x"))
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.key, copy.fields, str(copy)) == (err.key, err.fields, str(err))
