"""Distretto: one shared light-ERP for the firms of an industrial district."""

__version__ = "0.1.0"
