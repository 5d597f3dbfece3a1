"""The applications of the organisation roles that do not own households: bridge builder, department, civil actor."""

from __future__ import annotations

from typing import ClassVar

from eventsourcing.domain import Aggregate

from coordination.applications.follow_up import FollowUpDesk
from coordination.applications.municipal_picture import MunicipalPictureDesk
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.notifications import NotificationDesk
from coordination.applications.referrals import ReferralDesk
from coordination.applications.support import SupportDesk
from coordination.applications.vacancy_mirror import VacancyMirror
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink


class BridgeBuilderApp(
    ReferralDesk, SupportDesk, FollowUpDesk, MunicipalPictureDesk, NetworkCopies, NotificationDesk
):
    """The municipal bridge builder (boligsocial brobygger, bydelsguide): holds households after the move."""

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {Referral: 50, SupportLink: 50}


class MunicipalDepartmentApp(
    ReferralDesk, FollowUpDesk, VacancyMirror, MunicipalPictureDesk, NetworkCopies, NotificationDesk
):
    """A municipal department answering referrals: daycare allocation, schools, jobcentre, elderly housing."""

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {Referral: 50}


class CivilActorApp(ReferralDesk, SupportDesk, MunicipalPictureDesk, NetworkCopies, NotificationDesk):
    """A civil-society actor offering support: a mentor network, an association, a homework café."""

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {Referral: 50, SupportLink: 50}
