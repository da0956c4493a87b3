"""Blueprints, one per capability: parse, authorise, call one service, render."""
