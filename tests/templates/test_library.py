"""The shipped library: all 20 files valid and consistent, loading, overrides and error reports."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from medvault.errors import NotFound, TemplateError
from medvault.templates import TemplateLibrary, builtin_dir, load_file
from medvault.templates._spec import DECISION_VARIABLES, placeholders

BUILTIN_FILES = sorted(builtin_dir().glob("*.toml"))
EXPECTED_IDS = {
    "report-correction": "anchored",
    "error-check": "anchored",
    "consistency-check": "anchored",
    "patient-simplification": "anchored",
    "translation": "anchored",
    "referrer-summary": "anchored",
    "structured-report": "anchored",
    "fleischner-nodule": "semi",
    "impression-from-findings": "open",
    "differential-diagnosis": "open",
}


def test_twenty_builtin_files() -> None:
    """The package ships ten templates, each in German and English."""
    lib = TemplateLibrary.load()
    assert len(BUILTIN_FILES) == 20
    assert {(t.id, t.lang) for t in lib.list()} == {(i, lg) for i in EXPECTED_IDS for lg in ("de", "en")}
    assert {t.id: t.task_type for t in lib.list()} == EXPECTED_IDS


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.name)
def test_builtin_file_is_valid(path: Path) -> None:
    """Each file validates, uses every input and declares every placeholder, and has a valid schema."""
    t = load_file(path)
    used = placeholders(t.prompt.system) | placeholders(t.prompt.user)
    provided = DECISION_VARIABLES[t.decision] if t.decision else frozenset()
    assert used - provided == {i.name for i in t.inputs}
    if t.output_format == "json":
        assert t.output_schema is not None
        jsonschema.Draft202012Validator.check_schema(t.output_schema)
    else:
        assert t.output_schema is None
    assert t.version.startswith("sha256:") and len(t.version) == 19


@pytest.mark.parametrize("template_id", sorted(EXPECTED_IDS))
def test_languages_agree(template_id: str) -> None:
    """German and English versions declare the same task, inputs, format, schema, guard and risk levels."""
    lib = TemplateLibrary.load()
    de, en = lib.get(template_id, "de"), lib.get(template_id, "en")
    assert [(i.name, i.type, i.required, i.choices) for i in de.inputs] == [
        (i.name, i.type, i.required, i.choices) for i in en.inputs
    ]
    same = (
        "task_type",
        "output_format",
        "output_schema",
        "guard_task",
        "guard_checks",
        "decision",
        "sampling",
    )
    for attr in same:
        assert getattr(de, attr) == getattr(en, attr), attr
    assert (de.risk.privacy, de.risk.reasoning, de.risk.regulatory.eu, de.risk.regulatory.us) == (
        en.risk.privacy,
        en.risk.reasoning,
        en.risk.regulatory.eu,
        en.risk.regulatory.us,
    )
    assert de.title != en.title and de.warning != en.warning


def test_open_templates_carry_the_highest_reasoning_risk() -> None:
    """Open templates declare reasoning demand 5 and a likely medical-device status in the EU."""
    for t in TemplateLibrary.load().list():
        if t.task_type == "open":
            assert t.risk.reasoning == 5 and t.risk.regulatory.eu == "device"


def test_unknown_template_is_not_found() -> None:
    """An unknown id or language is a NotFound error (HTTP 404) that says what exists."""
    lib = TemplateLibrary.load()
    with pytest.raises(NotFound, match="no template 'nope'"):
        lib.get("nope", "de")
    with pytest.raises(NotFound, match=r"has no language 'fr'; it has \['de', 'en'\]"):
        lib.get("translation", "fr")


def test_list_filters_by_language_and_groups_by_task() -> None:
    """list(lang) returns one language, anchored before semi before open."""
    listed = TemplateLibrary.load().list("de")
    assert {t.lang for t in listed} == {"de"} and len(listed) == 10
    order = [t.task_type for t in listed]
    assert order == sorted(order, key=["anchored", "semi", "open"].index)


def _copy(
    name: str, directory: Path, edit: tuple[str, str] | None = None, new_name: str | None = None
) -> Path:
    directory.mkdir(exist_ok=True)
    text = (builtin_dir() / name).read_text(encoding="utf-8")
    if edit:
        assert edit[0] in text
        text = text.replace(edit[0], edit[1])
    target = directory / (new_name or name)
    target.write_text(text, encoding="utf-8")
    return target


def test_hospital_directory_adds_a_template(tmp_path: Path) -> None:
    """A template in an extra directory joins the built-ins."""
    _copy(
        "report-correction.en.toml",
        tmp_path,
        ('id = "report-correction"', 'id = "ward-letter-correction"'),
        "ward-letter-correction.en.toml",
    )
    lib = TemplateLibrary.load([tmp_path])
    assert len(lib) == 21
    assert lib.get("ward-letter-correction", "en").source == str(tmp_path / "ward-letter-correction.en.toml")


def test_hospital_directory_overrides_by_version(tmp_path: Path) -> None:
    """A hospital file with a built-in's id replaces it, under a new content version."""
    builtin = TemplateLibrary.load().get("report-correction", "en")
    _copy("report-correction.en.toml", tmp_path, ('title = "Report correction"', 'title = "Proofreading"'))
    lib = TemplateLibrary.load([tmp_path])
    local = lib.get("report-correction", "en")
    assert local.title == "Proofreading" and local.version != builtin.version and len(lib) == 20


def test_version_follows_content_not_layout(tmp_path: Path) -> None:
    """Changing content changes the version; comments and spacing do not."""
    original = load_file(builtin_dir() / "translation.de.toml")
    relaid = _copy("translation.de.toml", tmp_path / "a", ("id = ", "# a new comment\nid   =   "))
    assert load_file(relaid).version == original.version
    edited = _copy("translation.de.toml", tmp_path / "b", ("temperature = 0.1", "temperature = 0.2"))
    assert load_file(edited).version != original.version


BROKEN = [
    (("temperature = 0.1", "temperature = 3.0"), "sampling.temperature"),
    (("{{ text }}", "{{ txt }}"), "undeclared placeholders ['txt']"),
    (('choices = ["de-en", "en-de"]', "choices = []"), "inputs.1"),
    (('guard_task = "translation"\n', ""), "guard_task and guard_checks go together"),
    (('source_variable = "text"', 'source_variable = "direction"'), "must be a required text input"),
    (('output_format = "text"', 'output_format = "json"'), "output_format json needs an output_schema"),
    (("[sampling]", 'colour = "blue"\n\n[sampling]'), "key 'colour': Extra inputs are not permitted"),
    (("[sampling]", 'version = "1"\n\n[sampling]'), "key 'version': MedVault sets it itself"),
    (('id = "translation"', 'id = "Translation!"'), "key 'id'"),
    (("{% endif %}", ""), "prompt.system line"),
    (('lang = "de"', 'lang = "en"'), "the file must be named translation.en.toml"),
    (('title = "Übersetzung', 'title = """Übersetzung'), "not valid TOML"),
]


@pytest.mark.parametrize(("edit", "problem"), BROKEN, ids=[b[1][:30] for b in BROKEN])
def test_invalid_file_names_file_key_and_problem(tmp_path: Path, edit: tuple[str, str], problem: str) -> None:
    """A broken hospital file stops loading with an error naming the file and the key or problem."""
    path = _copy("translation.de.toml", tmp_path, edit)
    with pytest.raises(TemplateError) as info:
        TemplateLibrary.load([tmp_path])
    assert str(info.value).startswith(str(path)) and problem in str(info.value)


def test_unused_input_is_rejected(tmp_path: Path) -> None:
    """Declaring an input the prompt never uses is an error."""
    extra = '\n[[inputs]]\nname = "ward"\ntype = "text"\nlabel = "Station"\nrequired = false\n\n[prompt]'
    _copy("translation.de.toml", tmp_path, ("\n[prompt]", extra))
    with pytest.raises(TemplateError, match=r"declared inputs \['ward'\] are not used"):
        TemplateLibrary.load([tmp_path])


def test_invalid_output_schema_is_rejected(tmp_path: Path) -> None:
    """An output schema that is not a valid JSON Schema is an error on key output_schema."""
    _copy(
        "error-check.en.toml",
        tmp_path,
        ('"type": "object",\n  "required"', '"type": "objekt",\n  "required"'),
    )
    with pytest.raises(TemplateError, match=r"key 'output_schema': .*not a valid JSON Schema"):
        TemplateLibrary.load([tmp_path])


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    """A configured template directory that does not exist stops loading."""
    with pytest.raises(TemplateError, match="does not exist"):
        TemplateLibrary.load([tmp_path / "missing"])
