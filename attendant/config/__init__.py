"""From menu files to a compiled flow: the first stages of the pipeline.

``loader`` reads YAML into plain data and a source map (file:line:col of every
value); ``schema`` checks the data's shape against the JSON Schema (kept in
``attendant/schema/``, where editors find it); ``model_builder`` turns schema-valid
data into the frozen model with its defaults; ``checks`` runs the checks that need
the whole configuration; ``compiler`` runs those phases and returns the immutable
``Flow``; ``diagnostics`` is the one shape of every error and warning (file, line,
column, message, hint). Pure: no sockets, no audio, no clock.
"""
