"""Metaflow style: @catch on steps failing in different ways (Metaflow's API only)."""

import os
import signal
import time

from metaflow import FlowSpec, catch, step, timeout
from metaflow.exception import ExternalCommandFailed


class OwnError(Exception):
    pass


class CatchNamesFlow(FlowSpec):
    @catch(var="err")
    @step
    def start(self):
        raise ExternalCommandFailed("catch me!")
        self.next(self.died)

    @catch(var="err")
    @step
    def died(self):
        os.kill(os.getpid(), signal.SIGKILL)
        self.next(self.slow)

    @catch(var="err")
    @timeout(seconds=1)
    @step
    def slow(self):
        time.sleep(30)
        self.next(self.own)

    @catch(var="err")
    @step
    def own(self):
        raise OwnError("mine")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    CatchNamesFlow()
