"""handnet: a hand-written NumPy backpropagation network (no torch anywhere in this package)."""

from handnet.activations import ACTIVATIONS, get_activation
from handnet.config import Config
from handnet.data import DATASETS, Dataset, load_dataset
from handnet.layers import Dense
from handnet.losses import LOSSES, get_loss
from handnet.network import Network
from handnet.optim import SGD
from handnet.schedule import StepDecay
from handnet.train import History, Run, accuracy, build, predict, train

__all__ = [
    "ACTIVATIONS", "DATASETS", "LOSSES", "SGD", "Config", "Dataset", "Dense", "History",
    "Network", "Run", "StepDecay", "accuracy", "build", "get_activation", "get_loss",
    "load_dataset", "predict", "train",
]
