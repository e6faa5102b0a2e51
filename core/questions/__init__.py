"""Questions from documents: a bank of Q&A items made by rules, offline (see ``core.questions.bank``)."""

from core.questions.bank import Bank, BankConfig, BankItem, NoSentences, Rejected, make_bank

__all__ = ["Bank", "BankConfig", "BankItem", "NoSentences", "Rejected", "make_bank"]
