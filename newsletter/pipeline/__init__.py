"""The pipeline: every join between stages, one use case per module, called by cli/web/schedule.

publishing (collect or accept a push, then the feeds), draft, review (approve, take back,
cancel, send now, test copies), due (the send-time decision), send and lanes (an issue's send,
in process or by workers, then the archive feed), signup (the public form's policy).
"""
