"""Built-in business modules, each written only against :mod:`distretto.sdk`."""
