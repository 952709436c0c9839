"""Run flows from Python: ``Runner("flow.py")`` and, in notebooks, ``NBRunner(FlowClass)``.

Both start ``python flow.py run|resume`` as a subprocess (never the runtime in this process)
and read the result back through the client. Layer 3, beside the client.
"""

from headwater.runner.deployer import DeployedFlow, Deployer, TriggeredRun
from headwater.runner.executing import ExecutingRun
from headwater.runner.nbrun import NBRunner
from headwater.runner.runner import Runner

__all__ = ["DeployedFlow", "Deployer", "ExecutingRun", "NBRunner", "Runner", "TriggeredRun"]
