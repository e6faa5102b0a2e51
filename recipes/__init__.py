"""The Lab's built-in tiny language model: tokenizer, training mix, training and evaluation.

``python -m recipes.train --out models/lab-tiny-lm`` reproduces the shipped weights.
"""
