"""The one error tree of headwater.

Every error a user can cause is a :class:`HeadwaterException`. Its ``str()`` is a one-line
headline that says what was wrong and what to do; the command line prints exactly that line
(no traceback unless ``HEADWATER_DEBUG=1``) and exits with code 1. Anything else that escapes
is a bug in headwater itself.
"""

from __future__ import annotations


class HeadwaterException(Exception):
    """Base of every user-facing headwater error."""

    headline = "headwater error"

    def __init__(self, msg: str | None = None) -> None:
        self.message = msg or self.headline
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# Metaflow's name for the base class, so `except MetaflowException` works in ported code.
MetaflowException = HeadwaterException


# --- authoring -----------------------------------------------------------------------------


class InvalidFlow(HeadwaterException):
    """The flow's graph breaks a rule (see API.md section 1)."""

    headline = "the flow is not valid"

    def __init__(self, msg: str, step: str | None = None, lineno: int | None = None) -> None:
        self.step = step
        self.lineno = lineno
        super().__init__(msg)


class ParameterError(HeadwaterException):
    headline = "bad parameter"


class ConfigError(ParameterError):
    """A Config has no usable value: a missing file, bad JSON, a failing parser, an unknown
    name on the command line, or a deferred expression that does not evaluate."""

    headline = "bad config"


class CommandLineError(HeadwaterException):
    headline = "bad command line"


class MergeArtifactsError(HeadwaterException):
    """merge_artifacts found names whose values differ between join inputs."""

    headline = "merge_artifacts found conflicting values"

    def __init__(self, msg: str, names: tuple[str, ...] = ()) -> None:
        self.names = names
        super().__init__(msg)


class MissingInMergeArtifactsError(MergeArtifactsError):
    """merge_artifacts(include=...) names artifacts that no input has."""

    headline = "merge_artifacts was asked to include artifacts no input has"


class UnhandledInMergeArtifactsError(MergeArtifactsError):
    """merge_artifacts met artifacts whose values differ between inputs and that the join
    neither set on self nor excluded."""

    headline = "merge_artifacts found conflicting values the join does not handle"


class ReadOnlyArtifact(HeadwaterException, AttributeError):
    headline = "parameters and class constants are read-only inside steps"


class ReadOnlyConfig(ReadOnlyArtifact, TypeError):
    """A config value was changed in place; a TypeError too, as Metaflow raises for it."""

    headline = "a config is read-only"


class UnpicklableArtifact(HeadwaterException):
    headline = "an artifact could not be saved"

    def __init__(self, msg: str, name: str | None = None) -> None:
        self.name = name
        super().__init__(msg)


# --- storage -------------------------------------------------------------------------------


class DatastoreError(HeadwaterException):
    headline = "datastore error"


class DatastoreNotFound(DatastoreError):
    headline = "no headwater datastore found"


class CorruptBlob(DatastoreError):
    headline = "an artifact blob is corrupted"


class IndexNotFound(DatastoreError):
    headline = "no artifact index for that task attempt"


class UnsupportedFormat(DatastoreError):
    """A file was written by a newer headwater than this one."""

    headline = "written by a newer headwater; upgrade headwater to read it"


class MetadataError(HeadwaterException):
    headline = "metadata error"


class PluginError(HeadwaterException):
    """A plugin (backend, executor, decorator, card type, command) named in settings or on the
    command line cannot be found or loaded."""

    headline = "plugin not found"


class MissingExtra(PluginError):
    """An optional part of headwater needs a package that is not installed."""

    def __init__(self, feature: str, package: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs the Python package {package!r}, which is not installed: "
            f"pip install 'headwater[{extra}]'"
        )
        self.package = package
        self.extra = extra


class SettingsError(HeadwaterException):
    """Settings (options, environment, the settings file) do not make a usable setup."""

    headline = "bad settings"


class MetadataUnavailable(MetadataError):
    """The metadata database or service could not be reached, retries included."""

    headline = "the metadata store cannot be reached"


class MetadataAuthError(MetadataError):
    """The metadata service refused the token (no token, an unknown or a revoked one)."""

    headline = "the metadata service refused the token"


class NotRunOwner(MetadataError):
    """A write to a run that belongs to another user: only the run's user may write it."""

    headline = "that run belongs to another user"


class TagError(HeadwaterException):
    headline = "bad tag"


# --- client --------------------------------------------------------------------------------


class ClientError(HeadwaterException):
    headline = "client error"


class ObjectNotFound(ClientError, KeyError):
    headline = "object not found"

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


MetaflowNotFound = ObjectNotFound


class NamespaceMismatch(ClientError):
    headline = "object is not in the current namespace"


MetaflowNamespaceMismatch = NamespaceMismatch


class InvalidPathspec(ClientError):
    headline = "malformed pathspec"


class ArtifactNotFound(ClientError, AttributeError):
    headline = "artifact not found"


class CardNotFound(ObjectNotFound):
    """A task has no card (of the type or id asked for)."""

    headline = "card not found"


# --- running -------------------------------------------------------------------------------


class RunFailed(HeadwaterException):
    headline = "the run failed"


class TaskDied(HeadwaterException):
    """A task attempt ended without an exception of its code (killed, crashed, timed out):
    the type @catch records when that was the last attempt."""

    headline = "the task failed without raising an exception"


class StepTimedOut(HeadwaterException, TimeoutError):
    """A step ran longer than its @timeout (raised inside the step when the time is up)."""

    headline = "the step timed out"


class ExternalCommandFailed(HeadwaterException):
    """A command a step ran failed (Metaflow's name; raise it from your own steps)."""

    headline = "an external command failed"


class SecretsError(HeadwaterException):
    """@secrets could not read a secret (the message never includes a secret value)."""

    headline = "a secret could not be read"


class DoNotRetry(HeadwaterException):
    """Raise from a step to fail it without further @retry attempts."""

    headline = "the step asked not to be retried"


class PlanError(HeadwaterException):
    """A task run by a scheduler (no runtime) cannot be planned from its command line and
    what the stores hold."""

    headline = "the task cannot start"


class TaskFailed(HeadwaterException):
    headline = "a task failed"


class RunnerError(HeadwaterException):
    """Runner / NBRunner could not start a run or follow it."""

    headline = "the Runner could not start the flow"


class RError(HeadwaterException):
    """An R step failed: the message is R's error message; ``r_traceback`` the R calls."""

    headline = "the R step failed"

    def __init__(self, msg: str | None = None, r_traceback: str = "") -> None:
        super().__init__(msg)
        self.r_traceback = r_traceback

    def failure_report(self) -> str:
        """What the task's log and record show: the R traceback, then the error."""
        head = f"{self.r_traceback.rstrip()}\n" if self.r_traceback else ""
        return f"{head}{type(self).__name__}: {self.message}\n"


class RSetupError(RError):
    """An R step could not start: no Rscript, no headwater R package, a missing R package."""

    headline = "the R step could not start"
