"""The loss functions, where users import them: ``from xsq import losses``. Their home is :mod:`xsq.core.losses`."""

from .core.losses import *  # noqa: F403
from .core.losses import __all__  # noqa: F401
