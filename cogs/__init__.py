"""Commands, one cog per capability; each module is a discord.py extension."""
