"""MED-PC IV files: read, decode with a program profile, write.

>>> from neuroadapt.io.medpc import read_medpc, load_profile, events_table, summary_table
"""

from neuroadapt.io.medpc.errors import MedPCError as MedPCError
from neuroadapt.io.medpc.errors import SkippedSession as SkippedSession
from neuroadapt.io.medpc.events import EVENT_COLUMNS as EVENT_COLUMNS
from neuroadapt.io.medpc.events import decode_session as decode_session
from neuroadapt.io.medpc.events import encode_events as encode_events
from neuroadapt.io.medpc.events import events_table as events_table
from neuroadapt.io.medpc.events import sessions_table as sessions_table
from neuroadapt.io.medpc.model import HEADER_FIELDS as HEADER_FIELDS
from neuroadapt.io.medpc.model import Header as Header
from neuroadapt.io.medpc.model import MedPCFile as MedPCFile
from neuroadapt.io.medpc.model import Session as Session
from neuroadapt.io.medpc.profile import EventSpec as EventSpec
from neuroadapt.io.medpc.profile import Profile as Profile
from neuroadapt.io.medpc.profile import ProfileError as ProfileError
from neuroadapt.io.medpc.profile import Roles as Roles
from neuroadapt.io.medpc.profile import list_profiles as list_profiles
from neuroadapt.io.medpc.profile import load_profile as load_profile
from neuroadapt.io.medpc.reader import MAX_BYTES as MAX_BYTES
from neuroadapt.io.medpc.reader import parse_medpc as parse_medpc
from neuroadapt.io.medpc.reader import read_medpc as read_medpc
from neuroadapt.io.medpc.summary import combine_summaries as combine_summaries
from neuroadapt.io.medpc.summary import summary_table as summary_table

__all__ = [
    "EVENT_COLUMNS",
    "HEADER_FIELDS",
    "MAX_BYTES",
    "EventSpec",
    "Header",
    "MedPCError",
    "MedPCFile",
    "Profile",
    "ProfileError",
    "Roles",
    "Session",
    "SkippedSession",
    "combine_summaries",
    "decode_session",
    "encode_events",
    "events_table",
    "list_profiles",
    "load_profile",
    "parse_medpc",
    "read_medpc",
    "sessions_table",
    "summary_table",
]
