"""Import and export teams: AutoGen component JSON, AutoGen Studio gallery files and our
own export format.

Each team is imported in its own savepoint: it is saved whole or not at all. The
report lists every component with `imported`, `failed` (and why, with a path) or
`skipped`. A file that is not one of these shapes is refused whole with a 422, as is one
that is not strict JSON, nests deeper than `MAX_JSON_DEPTH`, holds a NUL character or
more than `MAX_COMPONENTS` components. Export never includes keys or credential
references.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from pydantic import ValidationError

from studio.errors import Problem, ServiceError
from studio.inputs import MAX_JSON_DEPTH, json_problem
from studio.teams.autogen import ComponentProblem, SpecReader, read_component, write_team
from studio.teams.models import Team
from studio.teams.services import snapshot_team
from studio.teams.spec import TeamSpec
from studio.teams.specs import SPEC_FORMAT, strip_ids, team_spec
from studio.teams.validation import validate_spec
from studio.teams.writing import SpecWriter, apply_team_spec

GALLERY_SECTIONS = ("teams", "agents", "models", "tools", "terminations")
#: components one file may hold: each team is validated and saved on its own
MAX_COMPONENTS = 500


@dataclass
class ReportItem:
    """What happened to one component of an imported file."""

    kind: str
    label: str
    status: str
    id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return {
            "kind": self.kind,
            "label": self.label,
            "status": self.status,
            "id": self.id,
            "problems": [problem.as_dict() for problem in self.problems],
            "warnings": [warning.as_dict() for warning in self.warnings],
        }


# --- Import ---


def structural_problems(spec: dict[str, Any]) -> list[Problem]:
    """Problems that make a spec unsafe to store (not the ones a credential fixes).

    A spec the runtime cannot build even without credentials is refused too: whatever
    is imported can be run once credentials are attached, copied and exported.
    """
    fixable = ("has no credential", "credential", "needs a base URL", "is not set")
    problems = [
        problem
        for problem in validate_spec(spec)
        if not any(text in problem.message for text in fixable)
        and not problem.message.startswith("the runtime refused")
    ]
    if not problems:
        try:
            write_team(TeamSpec.model_validate(spec).model_dump())
        except (ComponentProblem, ValidationError) as problem:
            problems.append(Problem("", str(problem)))
    return problems


def import_team_spec(
    user: AbstractBaseUser, spec: dict[str, Any], label: str, layout: dict[str, Any] | None = None
) -> ReportItem:
    """Save one team spec in its own savepoint; report what happened."""
    blocking = structural_problems(spec)
    if blocking:
        return ReportItem("team", label, "failed", problems=blocking)
    try:
        with transaction.atomic():
            team = apply_team_spec(user, spec, reuse_ids=False)
            if layout and isinstance(layout, dict):
                team.layout = layout
                team.save(update_fields=["layout"])
            snapshot_team(team, user, note="Imported")
    except Exception as exc:  # any failure must leave nothing behind
        return ReportItem("team", label, "failed", problems=[Problem("", str(exc))])
    return ReportItem(
        "team", label, "imported", id=team.pk, warnings=validate_spec(team_spec(team))
    )


def component_label(data: Any, path: str) -> str:
    """What a report calls a component: its label, its config's name, or where it sits."""
    if not isinstance(data, dict):
        return path
    config = data.get("config")
    name = config.get("name") if isinstance(config, dict) else None
    label = data.get("label") or name
    return label if isinstance(label, str) and label else path


def import_autogen_team(user: AbstractBaseUser, data: Any, path: str) -> ReportItem:
    """Import one AutoGen team component: the runtime reads it, its spec is saved."""
    label = component_label(data, path)
    reader = SpecReader()
    try:
        spec = reader.team(read_component(data, path, "team"), path)
    except ComponentProblem as problem:
        return ReportItem(
            "team", label, "failed", problems=[Problem(problem.path, problem.message)]
        )
    item = import_team_spec(user, spec, label)
    if item.status == "imported":
        item.warnings += reader.warnings
    return item


def import_component(user: AbstractBaseUser, data: Any, path: str, kind: str) -> ReportItem:
    """Import one non-team component of a gallery (agent, model, tool, termination)."""
    reader = SpecReader()
    label = component_label(data, path)
    try:
        if kind == "team":
            return import_autogen_team(user, data, path)
        if kind == "tool":
            name = read_component(data, path, "tool").name
            return ReportItem(
                kind,
                label,
                "imported",
                problems=[],
                warnings=[
                    Problem(path, f'mapped onto the registered tool "{name}"; its code was not run')
                ],
            )
        if kind == "termination":
            reader.condition(read_component(data, path, "termination"), path)
            return ReportItem(
                kind,
                label,
                "skipped",
                warnings=[Problem(path, "understood; conditions are stored inside teams")],
            )
        with transaction.atomic():
            writer = SpecWriter(user, reuse_ids=False)
            if kind == "model":
                row: Any = writer.model(reader.model(read_component(data, path, "model"), path))
            else:
                member = read_component(data, path, "agent|team")
                row = writer.agent(reader.participant(member, path))
        return ReportItem(kind, label, "imported", id=row.pk, warnings=reader.warnings)
    except ComponentProblem as problem:
        return ReportItem(kind, label, "failed", problems=[Problem(problem.path, problem.message)])
    except Exception as exc:  # report, never half-import
        return ReportItem(kind, label, "failed", problems=[Problem(path, str(exc))])


def read_document(body: bytes) -> Any:
    """The JSON of an uploaded file, or a 422 saying why it cannot be imported."""
    try:
        data = json.loads(body or b"null", parse_constant=refuse_constant)
    except RecursionError:
        raise not_importable("", f"nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise ServiceError("The body is not JSON.", 422) from None
    problem = json_problem(data)
    if problem is not None:
        raise not_importable(*problem)
    count = count_components(data)
    if count > MAX_COMPONENTS:
        raise not_importable("", f"holds {count} components; import at most {MAX_COMPONENTS}")
    return data


def refuse_constant(name: str) -> Any:
    """``NaN`` and ``Infinity`` are not JSON (Python's reader accepts them)."""
    raise ValueError(f"{name} is not JSON")


def not_importable(path: str, message: str) -> ServiceError:
    """A 422 for a file refused whole."""
    return ServiceError("The file cannot be imported.", 422, [Problem(path, message)])


def count_components(data: Any) -> int:
    """How many components a file holds (a gallery counts each of its entries)."""
    count = 0
    for document in data if isinstance(data, list) else [data]:
        components = document.get("components") if isinstance(document, dict) else None
        if isinstance(components, dict):
            sections = [components.get(section) for section in GALLERY_SECTIONS]
            count += sum(len(entries) for entries in sections if isinstance(entries, list))
        else:
            count += 1
    return count


@transaction.atomic
def import_document(user: AbstractBaseUser, data: Any) -> list[ReportItem]:
    """Import a file: our export, an AutoGen Studio gallery, a component or a list of them.

    A part that is not one of these refuses the whole file: nothing is imported.
    """
    if isinstance(data, list):
        items: list[ReportItem] = []
        for index, entry in enumerate(data):
            items += import_document_at(user, entry, f"[{index}]")
        return items
    return import_document_at(user, data, "")


def import_document_at(user: AbstractBaseUser, data: Any, path: str) -> list[ReportItem]:
    """Import one document found at `path` of the uploaded file."""
    if not isinstance(data, dict):
        raise not_importable(path, "not a team, a gallery or a component")
    if str(data.get("format", "")).startswith("roundtable/"):
        if data["format"] != SPEC_FORMAT or not isinstance(data.get("team"), dict):
            raise ServiceError(f"Unknown export format {data['format']!r}.", 422)
        spec = data["team"]
        return [import_team_spec(user, spec, str(spec.get("name")), data.get("layout"))]
    if isinstance(data.get("components"), dict):
        return import_gallery(user, data["components"], f"{path}components")
    kind = data.get("component_type")
    if kind is not None and not isinstance(kind, str):
        raise not_importable(f"{path}.component_type" if path else "component_type", "not text")
    if kind in {"team", "agent", "model", "tool", "termination"}:
        return [import_component(user, data, path, kind)]
    if "provider" in data and kind in {None, "replay_chat_completion_client"}:
        return [import_component(user, data, path, "model")]
    raise not_importable(path, "not a team, a gallery or a component")


def import_gallery(
    user: AbstractBaseUser, components: dict[str, Any], path: str
) -> list[ReportItem]:
    """Import every entry of an AutoGen Studio gallery's sections."""
    items = []
    for section in GALLERY_SECTIONS:
        entries = components.get(section) or []
        if not isinstance(entries, list):
            raise not_importable(f"{path}.{section}", "must be a list of components")
        for index, entry in enumerate(entries):
            where = f"{path}.{section}[{index}]"
            items.append(import_component(user, entry, where, section.removesuffix("s")))
    return items


# --- Export ---


def export_team(team: Team, export_format: str) -> dict[str, Any]:
    """The team as a file: `autogen` (component JSON) or `roundtable` (our format)."""
    spec = strip_ids(team_spec(team))
    if export_format == "autogen":
        try:
            return write_team(spec)
        except ComponentProblem as problem:
            raise ServiceError(
                "The team cannot be exported for AutoGen.", 422, [Problem("", problem.message)]
            ) from problem
    if export_format == "roundtable":
        return {"format": SPEC_FORMAT, "team": spec, "layout": team.layout or {}}
    raise ServiceError('format must be "autogen" or "roundtable".', 422)
