"""@secrets: inline, env and file sources become environment variables of the task."""

import os

from headwater import FlowSpec, card, secrets, step

INLINE = {"type": "inline", "id": "db", "options": {"env_vars": {"DB_USER": "flow-user"}}}
NAMES = ("DB_USER", "API_TOKEN", "FILE_PASSWORD", "JSON_KEY")


class SecretsFlow(FlowSpec):
    @card
    @secrets(
        sources=[INLINE, {"type": "env", "id": "HW_TEST_TOKEN", "options": {"as": "API_TOKEN"}}]
    )
    @step
    def start(self):
        # Say what arrived without keeping a secret value in an artifact or a log.
        self.present = sorted(k for k in NAMES if k in os.environ)
        self.user_ok = os.environ["DB_USER"] == "flow-user"
        self.token_ok = os.environ["API_TOKEN"] == os.environ["HW_TEST_TOKEN"]
        print("secrets present:", self.present)
        self.next(self.from_files)

    @secrets(sources=["file.secrets.env", {"type": "file", "id": "secrets.json"}])
    @step
    def from_files(self):
        self.file_present = sorted(k for k in NAMES if k in os.environ)
        self.file_lengths = {k: len(os.environ[k]) for k in ("FILE_PASSWORD", "JSON_KEY")}
        self.next(self.end)

    @step
    def end(self):
        self.end_present = sorted(k for k in NAMES if k in os.environ)


if __name__ == "__main__":
    SecretsFlow()
