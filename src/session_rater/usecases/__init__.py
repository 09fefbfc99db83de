"""Use cases: what pages, commands and routes call. Each ties the pure domain core to storage
(``db``), recordings (``media``) and files (``io``); what a signed-in person may do goes
through :class:`~session_rater.usecases.permitted.Permitted`."""
