"""The local half of infra: it emulates an account on this machine, without Docker.

:mod:`.dynamodb_local` (AWS's DynamoDB engine, installed and started on demand), :mod:`.child`
(one supervised process), :mod:`.env` (the one mapping from settings to the children's
variables), :mod:`.stack` (start in order, watch, stop) and :mod:`.cli` (``iris-stack``).
"""
