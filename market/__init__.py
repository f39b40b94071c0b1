"""Simulator of advertising markets around LLM chatbots."""

__version__ = "0.1.0"
