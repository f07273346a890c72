"""The Companies House OAuth conformance suite: run ``pytest --pyargs conformance
--client PROFILE`` to judge a client's web-server flow requirement by requirement."""

from .adapter import ClientAdapter, Refused, SignInAgain
from .profile import ClientProfile, ProfileError, load_profile
from .requirements import CATALOGUE, Requirement

__all__ = [
    "CATALOGUE",
    "ClientAdapter",
    "ClientProfile",
    "ProfileError",
    "Refused",
    "Requirement",
    "SignInAgain",
    "load_profile",
]
