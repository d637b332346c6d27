"""API of registration: registering with a form (`registrations`), people and their consents, flags
and duplicates (`persons`), and the flags that need attention (`flags`). Everything is personal data:
read through `visible_to`, each person's record audited when opened, every change through
`registration.services`.
"""

from ventanilla.registration.api.flags import FlagViewSet
from ventanilla.registration.api.persons import PersonViewSet
from ventanilla.registration.api.registrations import RegistrationViewSet

__all__ = ["FlagViewSet", "PersonViewSet", "RegistrationViewSet"]
