"""HTTP layer: parse, guard, call one domain function, render."""

from contest.controllers.admin import AdminPages
from contest.controllers.adoptions import AdoptionApi, AdoptionPages
from contest.controllers.api import AuthController, EditionController, OrganisationController, UserController
from contest.controllers.appeals import AppealApi, AppealPages, SnapshotApi
from contest.controllers.consent import ConsentApi, ConsentPages
from contest.controllers.digital_id import DigitalIdPages
from contest.controllers.edition_cockpit import EditionCockpitPages
from contest.controllers.entries_api import EntryApi
from contest.controllers.entry_pages import EntryPages
from contest.controllers.memberships import MembershipApi, MembershipPages
from contest.controllers.notices import NoticeApi, NoticePages
from contest.controllers.operations import OperationsApi
from contest.controllers.pages import AccountPages, PublicPages
from contest.controllers.personal_data import ErasureAdminPages, PersonalDataApi, PersonalDataPages
from contest.controllers.powers import PendingActionApi, PendingActionPages
from contest.controllers.results_api import ResultsApi
from contest.controllers.results_pages import ApplicantResultPages, PublishPages, ResultsPages
from contest.controllers.signatories import SignatoryPages
from contest.controllers.two_factor import TwoFactorPages

ROUTE_HANDLERS = [
    PublicPages, AccountPages, AdminPages, EntryPages,
    AuthController, OrganisationController, EditionController, UserController, EntryApi, ResultsApi,
    ResultsPages, ApplicantResultPages, PublishPages, MembershipApi, MembershipPages,
    TwoFactorPages, PendingActionApi, PendingActionPages,
    DigitalIdPages, NoticePages, NoticeApi, OperationsApi, PersonalDataApi, PersonalDataPages,
    ErasureAdminPages, ConsentApi, ConsentPages, AdoptionApi, AdoptionPages, AppealApi, AppealPages,
    SignatoryPages, EditionCockpitPages,
    SnapshotApi,
]
