"""What members see and touch: rendering, views, buttons, menus and forms.

This layer draws the rules (``bot.takes``, ``bot.pins``, …) for Discord and routes every error
from a component to the same reporter as commands (:mod:`bot.ui.reporting`). It never imports
the bot class or a cog.
"""
