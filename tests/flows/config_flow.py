"""Configs: a file default and a default_value, read in steps, decorator arguments (step and
flow), a Parameter default, a class constant and config_expr."""

import os

from headwater import (
    Config,
    FlowSpec,
    Parameter,
    config_expr,
    current,
    environment,
    project,
    resources,
    retry,
    step,
)


@project(name=config_expr("cfg.project"))
class ConfigFlow(FlowSpec):
    cfg = Config("cfg", default="settings.json", help="the flow's settings")
    extra = Config("extra", default_value={"mode": "default", "sizes": [1, 2]})
    alpha = Parameter("alpha", default=cfg.alpha)
    LIMIT = config_expr("cfg.retries * 10")

    @retry(times=cfg.retries, minutes_between_retries=0)
    @resources(cpu=cfg.resources.cpu, memory=config_expr("cfg.resources.cpu * 1024"))
    @environment(vars={"MODE": extra.mode})
    @step
    def start(self):
        if current.retry_count < self.cfg.get("fail_attempts", 0):
            raise RuntimeError("flaky on purpose")
        self.deco_args = {d.name: dict(d.attributes) for d in type(self).start.decorators}
        self.seen = {
            "alpha": self.alpha,
            "alpha_type": type(self.alpha).__name__,
            "cpu_attr": self.cfg.resources.cpu,
            "cpu_item": self.cfg["resources"]["cpu"],
            "mode_env": os.environ.get("MODE"),
            "sizes": self.extra.sizes,
            "limit": self.LIMIT,
            "retry_count": current.retry_count,
            "project": current.project_name,
        }
        self.errors = []
        for attempt in (
            lambda: setattr(self, "cfg", {}),
            lambda: setattr(self.cfg, "alpha", 1),
            lambda: self.cfg.__setitem__("alpha", 1),
            lambda: self.cfg.resources.update(cpu=1),
        ):
            try:
                attempt()
            except Exception as ex:  # noqa: BLE001 - recorded for the test
                self.errors.append(f"{type(ex).__name__}: {ex}")
        print("SEEN", repr(self.seen))
        self.next(self.end)

    @step
    def end(self):
        if os.environ.get("FAIL_END"):
            raise RuntimeError("end fails on purpose")
        self.cfg_in_end = self.cfg.to_dict()


if __name__ == "__main__":
    ConfigFlow()
