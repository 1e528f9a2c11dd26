"""Infra's two halves and what they share.

:mod:`infra.provision` touches an account (``iris-provision``); :mod:`infra.local` emulates one on
this machine (``iris-stack``); :mod:`infra.esm` is the local event source mapping. Both halves
reach AWS APIs through :mod:`infra.aws` and read :mod:`infra.config`.
"""
