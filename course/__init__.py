"""Shared helpers for the course on deep feedforward networks and backpropagation.

One module per concept: activations, losses, layers, network, optim, gradcheck,
autodiff, data, plots, widgets. Import what a notebook needs, for example
``from course.network import MLP``.
"""

__version__ = "0.1.0"
