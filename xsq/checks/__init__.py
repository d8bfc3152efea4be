"""Checks of gradients: xsq's own, and the hand-written backprop a learner brings."""
