"""Names of the xsq package, for editors and type checkers: xsq/__init__.py loads each on first use."""

from . import losses
from .checks.backprop_check import check_backprop
from .checks.gradient_check import gradcheck
from .core.activations import ACTIVATIONS, identity, relu, sigmoid, softplus, tanh
from .core.api import autograd_grad, autograd_jacobian, input_jacobian, jacobian, manual_grad, objective, predict
from .core.params import flatten, init_params, param_keys, unflatten
from .errors import InputError, TrainingDiverged, TrainingFailed, TrainingStalled
from .training.model import Model, load_model
from .training.scaling import Scaler
from .training.train import fit
