from strands import Agent


def build(session_manager=None):
    return Agent(system_prompt="You remember the conversation.", session_manager=session_manager)
