"""Run a suite in its own framework and get a normalised :class:`~maestro_test_adapters.TestRun`.

Every adapter has the same method, ``run(target, *, timeout, env, workdir,
extra_args)``. The framework runs as a child process (never through a shell)
in a process group of its own; on timeout the whole tree is killed and the
run carries an ``error`` result with the output captured so far. A crash, a
missing report or a non-zero exit without a failing test is an ``error``
result too, so a run that went wrong can never look green.

>>> from maestro_test_adapters.adapters import PytestAdapter
>>> PytestAdapter().framework
'pytest'
"""

from maestro_test_adapters.adapters._base import Adapter, AdapterError, Target, ToolNotFoundError
from maestro_test_adapters.adapters._composite import CucumberAdapter, PlaywrightAdapter
from maestro_test_adapters.adapters._node import JestAdapter
from maestro_test_adapters.adapters._python import PytestAdapter, SeleniumAdapter

__all__ = [
    "Adapter",
    "AdapterError",
    "CucumberAdapter",
    "JestAdapter",
    "PlaywrightAdapter",
    "PytestAdapter",
    "SeleniumAdapter",
    "Target",
    "ToolNotFoundError",
]
