"""The language model: loading it, prompting it, decoding from it, looking inside it.

``hub`` finds and downloads models, ``prompting`` turns messages into the exact
prompt, ``generation`` decodes; the lessons about model internals sit next to
them: ``confidence`` (token probabilities), ``attribution`` (which context
tokens mattered) and ``editing`` (changing one fact in the weights).
"""
