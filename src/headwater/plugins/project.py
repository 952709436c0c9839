"""``@project(name=...)``: group a flow's runs by project and branch.

Branches, as in Metaflow: ``user.<username>`` by default, ``test.<branch>`` with ``--branch B``,
``prod`` with ``--production``, ``prod.<branch>`` with both. Runs get the system tags
``project:<name>`` and ``project_branch:<branch>``; inside tasks ``current.project_name``,
``branch_name``, ``is_user_branch``, ``is_production`` and ``project_flow_name``
(``<name>.<branch>.<Flow>``) are set. ``namespace("project:<name>")`` shows a project's runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from headwater.core.flow_decorators import FlowDecorator, FlowOption, make_flow_decorator
from headwater.exceptions import InvalidFlow

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any

PROJECT_TAG = "project:"
BRANCH_TAG = "project_branch:"
_INVALID_CHAR = re.compile(r"[^a-z0-9_]")
MAX_NAME_LENGTH = 128


def _check_name(what: str, value: Any, how_to_fix: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidFlow(f"{what} is empty: {how_to_fix}")
    bad = _INVALID_CHAR.search(value)
    if bad:
        raise InvalidFlow(
            f"{what} {value!r} has the character {bad.group()!r}: use only lowercase letters, "
            "digits and underscores"
        )
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidFlow(f"{what} is {len(value)} characters long: the limit is {MAX_NAME_LENGTH}")
    return value


def branch_name(given_branch: str | None, production: bool, user: str) -> str:
    """The branch a run belongs to (see the module docstring)."""
    if given_branch:
        _check_name("the branch name", given_branch, "pass --branch NAME")
        return f"prod.{given_branch}" if production else f"test.{given_branch}"
    return "prod" if production else f"user.{user}"


class ProjectDecorator(FlowDecorator):
    """Runs of flows with the same ``@project(name=...)`` share a project namespace; each user,
    test branch and production get their own branch of it."""

    name = "project"
    defaults = {"name": None, "branch": None, "production": False}
    options = (
        FlowOption(
            "branch",
            help="run on the @project branch test.BRANCH (prod.BRANCH with --production)",
            metavar="BRANCH",
        ),
        FlowOption(
            "production",
            help="run on the @project production branch (prod)",
            is_flag=True,
            default=False,
        ),
    )

    def _choice(self, key: str, options: Mapping[str, Any]) -> Any:
        """The decorator's argument or the command-line option; both only when they agree."""
        given = options.get(key)
        default = self.defaults[key]
        if key in self.user_attributes:
            if given not in (None, default) and given != self.attributes[key]:
                raise InvalidFlow(
                    f"@project sets {key}={self.attributes[key]!r} and the command line gives "
                    f"--{key}: use one of them"
                )
            return self.attributes[key]
        return given if given is not None else default

    def run_tags(self, flow_name: str, options: Mapping[str, Any], user: str) -> list[str]:
        project = _check_name(
            "the @project name", self.attributes["name"], "write @project(name='some_name')"
        )
        branch = branch_name(
            self._choice("branch", options), bool(self._choice("production", options)), user
        )
        return [f"{PROJECT_TAG}{project}", f"{BRANCH_TAG}{branch}"]

    def current_extras(self, flow_name: str, tags: frozenset[str]) -> Mapping[str, Any]:
        project = _tag_value(tags, PROJECT_TAG)
        branch = _tag_value(tags, BRANCH_TAG)
        if project is None or branch is None:
            return {}
        return {
            "project_name": project,
            "branch_name": branch,
            "is_user_branch": branch.startswith("user."),
            "is_production": branch == "prod" or branch.startswith("prod."),
            "project_flow_name": f"{project}.{branch}.{flow_name}",
        }


def _tag_value(tags: frozenset[str], prefix: str) -> str | None:
    for tag in tags:
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


project = make_flow_decorator(ProjectDecorator)
