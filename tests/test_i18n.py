"""中文 / English: complete catalogs, no interface text outside them, and every page in both languages."""

import ast
import re
import string

import pytest

from pages.ui.i18n import CATALOGS, catalog
from pooling_core import OPERATORS, PRESETS
from tests.apptest import figures, run_app
from tests.browser import ROOT
from tests.test_robustness import PAGES

CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def registry_texts() -> dict[str, str]:
    """The English the app takes from the registry, under the keys the Chinese catalog translates."""
    texts = {}
    for op in OPERATORS.values():
        texts[f"op.{op.id}.name"], texts[f"op.{op.id}.summary"] = op.name, op.summary
        for p in op.params:
            if p.in_app:
                texts[f"op.{op.id}.{p.name}.label"], texts[f"op.{op.id}.{p.name}.help"] = p.label, p.help
                texts.update({f"op.{op.id}.{p.name}.{choice}": p.choice_label(choice) for choice in p.choices})
    for preset in PRESETS.values():
        texts[f"preset.{preset.id}.name"], texts[f"preset.{preset.id}.note"] = preset.name, preset.note
    return texts


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_the_catalogs_have_the_same_keys_and_placeholders_and_no_empty_text():
    english = {**registry_texts(), **catalog("en")}
    chinese = catalog("zh")
    assert set(english) == set(chinese)
    for key, text in english.items():
        assert placeholders(text) == placeholders(chinese[key]), key
        assert text.strip() and chinese[key].strip(), key
    bilingual = ("language.", "sidebar.language")  # the language switch names each language in its own
    assert not any(CJK.search(text) for key, text in english.items() if not key.startswith(bilingual))


# ---------------------------------------------------------------- no interface text outside the catalogs

SHOWN_BY_CALL = {"title", "header", "subheader", "caption", "markdown", "info", "warning", "error", "success",
                 "metric", "button", "radio", "selectbox", "slider", "number_input", "text_input", "text_area",
                 "checkbox", "toggle", "file_uploader", "expander", "tabs", "heatmap", "rgb_image"}
SHOWN_BY_KEYWORD = {"label", "help", "placeholder", "title", "name", "xaxis_title", "yaxis_title", "annotation_text",
                    "text"}
WORDS = re.compile(r"[A-Za-z]{3,}")


def literal_words(node) -> list[str]:
    """English-looking words in a string literal or the literal parts of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return WORDS.findall(node.value)
    if isinstance(node, ast.JoinedStr):
        return [word for part in node.values for word in literal_words(part)]
    return []


def shown_literals(tree) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        shown = [*node.args[:2]] if name in SHOWN_BY_CALL else []
        shown += [k.value for k in node.keywords if k.arg in SHOWN_BY_KEYWORD]
        found += [ast.unparse(arg) for arg in shown if literal_words(arg)]
    return found


def test_no_page_shows_a_literal_outside_the_catalogs():
    sources = [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]
    assert len(sources) > 8
    for path in sources:
        assert shown_literals(ast.parse(path.read_text())) == [], path


def test_the_scan_finds_literals_shown_to_the_user():
    code = 'st.title("Explore")\nst.slider(t("a"), help=f"at most {k} cells")\nfigures.heatmap(x, "Input grid")\n'
    assert len(shown_literals(ast.parse(code))) == 3


# ---------------------------------------------------------------- every page in Chinese and in English

# Names and symbols a Chinese page keeps as students meet them in papers and code.
KEPT = {"SoftPool", "LIP", "DPP", "BlurPool", "MaxBlurPool", "ReLU", "PyTorch", "LRN", "PSNR", "MSE", "AlexNet",
        "ImageNet", "ResNet", "Network", "timm", "avgmax", "adaptive_avgmax_pool2d", "Torch7", "Graham", "Zhang",
        "ECCV", "ICCV", "NeurIPS", "Lin", "Krizhevsky", "Sutskever", "Hinton", "mean", "max", "min", "log", "ceil",
        "floor", "sym", "asym", "eval", "train", "sum", "region", "map", "torch", "graham_random", "graham_pseudo",
        "count_include_pad", "divisor_override", "pooling", "RGB", "PNG", "JPEG", "WebP", "BMP", "GIF", "Language",
        "English", "mode", "sigmoid", "softmax", "logit", "top", "dB", "ceil_mode", "APS", "ICML", "Gao", "Stergiou",
        "VGG16", "CIFAR", "CPU", "GPU"}


def page_texts(at) -> list[str]:
    texts = [e.value for kind in ("title", "header", "subheader", "caption", "markdown", "info", "warning", "error")
             for e in getattr(at, kind)]
    texts += [w.label for kind in ("slider", "number_input", "radio", "selectbox", "checkbox", "text_area",
                                   "text_input", "button") for w in getattr(at, kind)]
    texts += [option for kind in ("radio", "selectbox") for w in getattr(at, kind) for option in w.options]
    texts += [f["layout"].get("title", {}).get("text", "") for f in figures(at)]
    return texts


def english_words(text: str) -> list[str]:
    text = re.sub(r"\$[^$]*\$", "", text)  # inline math
    text = re.sub(r"`[^`]*`", "", text)  # code, e.g. a module's name
    text = re.sub(r"\*[^*]+\*", "", text)  # a paper's title, in italics as cited
    text = re.sub(r"\d+x\d+", "", text)  # a size, 16x16
    text = re.sub(r"（[\x00-\x7f]*）", "", text)  # an English name beside the Chinese one, as papers write it
    return [word for word in re.findall(r"[A-Za-z][A-Za-z_0-9]{2,}", text) if word not in KEPT | set(OPERATORS)]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_chinese_shows_no_english_interface_text(page):
    at = run_app(page, query={"lang": "zh"})
    assert not at.exception
    texts = [text for text in page_texts(at) if text not in {op.citation for op in OPERATORS.values()}]
    assert texts
    leaks = {text: english_words(text) for text in texts if english_words(text)}
    assert leaks == {}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_english_shows_no_chinese(page):
    at = run_app(page, query={"lang": "en"})
    assert not at.exception
    own_names = {"语言 / Language", "中文"}  # the language switch names each language in its own
    assert [text for text in page_texts(at) if CJK.search(text) and text not in own_names] == []


@pytest.mark.parametrize("lang, label, choices", [
    ("en", "Temperature T", ["sym (above and below the mean)", "asym (above the mean only)"]),
    ("zh", "温度 T", ["sym（双向）", "asym（只向上）"]),
])
def test_an_operator_parameter_and_its_choices_are_labelled_in_words_in_each_language(lang, label, choices):
    at = run_app(query={"lang": lang, "op": "softpool"})
    assert at.sidebar.number_input(key="softpool.temperature").label == label
    at = run_app(query={"lang": lang, "op": "dpp"})
    assert at.sidebar.selectbox(key="dpp.variant").options == choices


def test_an_unknown_language_falls_back_to_the_browser_s_without_a_notice():
    at = run_app(query={"lang": "xx"})
    assert not at.exception and not at.warning
    assert at.radio(key="lang").value == "en"  # AppTest's browser has no locale
    assert at.title[0].value == "Explore pooling"


def test_a_chinese_link_gives_chinese_errors_from_the_library():
    at = run_app(query={"lang": "zh", "source": "grid", "grid_text": "1 2 3\n4 5"})
    assert at.error and CJK.search(at.error[0].value)


def test_catalog_files_are_the_ones_the_app_reads():
    assert sorted(path.name for path in CATALOGS.glob("*.toml")) == ["en.toml", "zh.toml", "zh_messages.toml"]
