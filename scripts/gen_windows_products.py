#!/usr/bin/env python3
"""Writes the Windows event log entries of the product library (knowledge/products/windows_*.toml).

Windows events reach a SOC in three renderings of the same record, and an entry must know the key
names of each: the event XML (the engine reads it as a tree: `Event.System.EventID`,
`Event.EventData.<Data Name>`), NXLog im_msvistalog JSON (flat: `EventID`, `Hostname`, the Data
Names as keys) and Winlogbeat JSON (`winlog.event_id`, `winlog.event_data.<Data Name>`). The data
below states each product once (System fields, Data Names and their ECS targets per event-ID
group, categorization per event ID, from the Microsoft and Sysinternals documentation cited in
each entry) and this script expands it into one `[[log_type]]` per rendering and event group.

Event groups: a Data Name can mean different things in different events (TargetUserName is the
logged-on user in 4624 but the group in 4728). The first group of a product is its base; the
others are listed after it, each selected by its event IDs. Recognition keeps the log types whose
`when` matches some sample line, in entry order, and a key takes the target of the first of them
that knows it: a sample of one event group gets that group's mapping, a mixed sample the base one.
The last log type of each rendering matches every event of the rendering (fallback mapping and the
categorization rows).

Run: python3 scripts/gen_windows_products.py   (rewrites the files; the TOML is what is embedded)
"""

import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "knowledge", "products")

# ---- renderings -------------------------------------------------------------------------------

XML_TIME = "%Y-%m-%dT%H:%M:%S%.fZ"
NX_TIME = "%Y-%m-%d %H:%M:%S"

# System section of the event schema (learn.microsoft.com/windows/win32/wes/eventschema-systempropertiestype-complextype)
XML_SYSTEM = {
    "Event.System.Provider.Name": "event.provider",
    "Event.System.Provider.Guid": "winlog.provider_guid",
    "Event.System.Provider.EventSourceName": "winlog.event_source_name",
    "Event.System.EventID": "event.code",
    "Event.System.EventID.Qualifiers": "winlog.event_id_qualifiers",
    "Event.System.Version": "winlog.version",
    "Event.System.Level": "winlog.level",
    "Event.System.Task": "winlog.task_id",
    "Event.System.Opcode": "winlog.opcode_id",
    "Event.System.Keywords": "winlog.keywords",
    "Event.System.TimeCreated.SystemTime": ("@timestamp", "date", XML_TIME),
    "Event.System.EventRecordID": "winlog.record_id",
    "Event.System.Correlation.ActivityID": "winlog.activity_id",
    "Event.System.Correlation.RelatedActivityID": "winlog.related_activity_id",
    "Event.System.Execution.ProcessID": ("winlog.process.pid", "long"),
    "Event.System.Execution.ThreadID": ("winlog.process.thread.id", "long"),
    "Event.System.Channel": "winlog.channel",
    "Event.System.Computer": "host.name",
    "Event.System.Security.UserID": "winlog.user.identifier",
    # RenderingInfo (forwarded events, wevtutil /f:RenderedXml)
    "Event.RenderingInfo.Culture": "winlog.rendering_culture",
    "Event.RenderingInfo.Message": "message",
    "Event.RenderingInfo.Level": "log.level",
    "Event.RenderingInfo.Task": "winlog.task",
    "Event.RenderingInfo.Opcode": "winlog.opcode",
    "Event.RenderingInfo.Channel": "winlog.rendering_channel",
    "Event.RenderingInfo.Provider": "winlog.rendering_provider",
    "Event.RenderingInfo.Keywords.Keyword": "winlog.keywords_text",
}

# NXLog im_msvistalog fields (docs.nxlog.co, im_msvistalog "Fields")
NX_SYSTEM = {
    "EventTime": ("@timestamp", "date", NX_TIME),
    "EventReceivedTime": ("event.created", "date", NX_TIME),
    "Hostname": "host.name",
    "SourceName": "event.provider",
    "ProviderGuid": "winlog.provider_guid",
    "EventID": "event.code",
    "Version": "winlog.version",
    "Task": "winlog.task_id",
    "Category": "winlog.task",
    "OpcodeValue": "winlog.opcode_id",
    "Opcode": "winlog.opcode",
    "Keywords": "winlog.keywords",
    "EventType": "winlog.event_type",
    "SeverityValue": "winlog.severity_value",
    "Severity": "log.level",
    "RecordNumber": "winlog.record_id",
    "ActivityID": "winlog.activity_id",
    "RelatedActivityID": "winlog.related_activity_id",
    "ProcessID": ("winlog.process.pid", "long"),
    "ExecutionProcessID": ("winlog.process.pid", "long"),
    "ThreadID": ("winlog.process.thread.id", "long"),
    "ExecutionThreadID": ("winlog.process.thread.id", "long"),
    "Channel": "winlog.channel",
    "UserID": "winlog.user.identifier",
    "AccountName": "winlog.user.name",
    "Domain": "winlog.user.domain",
    "AccountType": "winlog.user.type",
    "Message": "message",
    "SourceModuleName": "winlog.nxlog.source_module_name",
    "SourceModuleType": "winlog.nxlog.source_module_type",
}

# Winlogbeat's rendering of the same record (winlog.* fields of the Winlogbeat reference)
WB_SYSTEM = {
    "winlog.provider_name": "event.provider",
    "winlog.provider_guid": "winlog.provider_guid",
    "winlog.event_id": "event.code",
    "winlog.version": "winlog.version",
    "winlog.task": "winlog.task",
    "winlog.opcode": "winlog.opcode",
    "winlog.keywords": "winlog.keywords",
    "winlog.record_id": "winlog.record_id",
    "winlog.activity_id": "winlog.activity_id",
    "winlog.related_activity_id": "winlog.related_activity_id",
    "winlog.process.pid": ("winlog.process.pid", "long"),
    "winlog.process.thread.id": ("winlog.process.thread.id", "long"),
    "winlog.channel": "winlog.channel",
    "winlog.computer_name": "host.name",
    "winlog.api": "winlog.api",
    "winlog.user.identifier": "winlog.user.identifier",
    "winlog.user.name": "winlog.user.name",
    "winlog.user.domain": "winlog.user.domain",
    "winlog.user.type": "winlog.user.type",
    # the ECS fields Winlogbeat writes itself pass through
    "event.kind": "event.kind",
    "event.created": ("event.created", "date"),
    "event.action": "event.action",
    "event.outcome": "event.outcome",
    "log.level": "log.level",
    "message": "message",
}

RENDERINGS = [
    # name, format, when (template: {ids} is an alternation of event IDs), system keys, data key template, user-data key template
    ("xml", "xml", r"<EventID\b[^>]*>(?:{ids})</", XML_SYSTEM, "Event.EventData.{}", "Event.UserData.{}"),
    ("nxlog_json", "json", r'"EventID"\s*:\s*"?(?:{ids})\b', NX_SYSTEM, "{}", "{}"),
    ("winlogbeat_json", "json", r'"event_id"\s*:\s*"?(?:{ids})\b', WB_SYSTEM, "winlog.event_data.{}", "winlog.user_data.{}"),
]
EVENT_ID_KEY = {"xml": "Event.System.EventID", "nxlog_json": "EventID", "winlogbeat_json": "winlog.event_id"}

# ---- types ------------------------------------------------------------------------------------


def field_type(target):
    if target.endswith(".ip"):
        return "ip"
    if target.endswith(".port"):
        return "port"
    if target.endswith(".pid") or target.endswith(".thread.id"):
        return "long"
    if target in ("@timestamp", "event.created", "file.created"):
        return "date"
    return "keyword"


def spec(v):
    """(target, type, format, confidence) from a shorthand: "target", (target, type),
    (target, type, format) or {"target": ..., "confidence": ...}."""
    if isinstance(v, dict):
        t = v["target"]
        return (t, v.get("type", field_type(t)), v.get("format"), v.get("confidence"))
    if isinstance(v, str):
        return (v, field_type(v), None, None)
    if len(v) == 2:
        return (v[0], v[1], None, None)
    return (v[0], v[1], v[2], None)


def fallback(target):
    """A key that gives `target` only when the surer key for it is absent."""
    return {"target": target, "confidence": 0.92}


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def toml_lit(s):
    assert "'" not in s and "\n" not in s, s
    return "'" + s + "'"


def render(p):
    """The TOML text of one product."""
    out = []
    out.append(f"# Generated by scripts/gen_windows_products.py from the data in that script: edit it there.")
    for k in ("id", "vendor", "product", "observer_type", "module", "prefix"):
        out.append(f"{k} = {toml_str(p[k])}")
    out.append("docs = [")
    for d in p["docs"]:
        out.append(f"  {toml_str(d)},")
    out.append("]")
    out.append(f"package = {toml_str(p['package'])}")
    out.append("")
    for s in p["signatures"]:
        out.append("[[signature]]")
        out.append(f"pattern = {toml_lit(s[0])}")
        out.append(f"confidence = {s[1]}")
        out.append(f"why = {toml_str(s[2])}")
        out.append("")
    for rname, fmt, when_t, system, data_t, user_t in p.get("renderings", RENDERINGS):
        groups = p["groups"]
        for gi, g in enumerate(groups + [None]):
            if g is None:
                name = f"{rname}"
                when = p["when_any"][rname]
                mapping = groups[0]
            else:
                name = f"{rname}_{g['name']}"
                when = when_t.replace("{ids}", "|".join(str(i) for i in g["ids"]))
                mapping = g
            fields = {}
            for k, v in system.items():
                fields[k] = spec(v)
            for k, v in p.get("extra_system", {}).get(rname, {}).items():
                fields[k] = spec(v)
            data = dict(p["data"])
            data.update(mapping.get("data", {}))
            for dn, v in data.items():
                key = data_t.format(dn)
                if rname == "nxlog_json" and key in fields:
                    continue  # the System meaning of an NXLog key wins
                fields[key] = spec(v if v is not None else f"winlog.event_data.{dn}")
            udata = dict(p.get("user_data", {}))
            udata.update(mapping.get("user_data", {}))
            for dn, v in udata.items():
                key = user_t.format(dn if rname == "xml" else dn.split(".")[-1])
                if rname == "nxlog_json" and key in fields:
                    continue
                fields[key] = spec(v)
            out.append("[[log_type]]")
            out.append(f"name = {toml_str(name)}")
            out.append(f"when = {toml_lit(when)}")
            out.append(f"format = {toml_str(fmt)}")
            out.append("")
            out.append("[log_type.fields]")
            for k, (t, ty, f, c) in fields.items():
                extra = f", format = {toml_str(f)}" if f else ""
                extra += f", confidence = {c}" if c is not None else ""
                out.append(f"{toml_str(k)} = {{ target = {toml_str(t)}, type = {toml_str(ty)}{extra} }}")
            out.append("")
            if g is None:
                for c in p["categorize"]:
                    key = c.get("key")
                    if key is None:
                        key = EVENT_ID_KEY[rname]
                    elif isinstance(key, dict):
                        if rname not in key:
                            continue
                        key = key[rname]
                    out.append("[[log_type.categorize]]")
                    out.append(f"key = {toml_str(key)}")
                    out.append(f"value = {toml_str(str(c['value']))}")
                    for f in ("kind", "category", "type", "outcome", "action"):
                        if f in c:
                            v = c[f]
                            out.append(f"{f} = {json.dumps(v)}")
                    out.append("")
    return "\n".join(out).rstrip() + "\n"


def ev(value, category, types, action, outcome=None, kind="event", key=None):
    c = {"value": value, "kind": kind, "category": category, "type": types, "action": action}
    if outcome:
        c["outcome"] = outcome
    if key:
        c["key"] = key
    return c


# ---- Windows Security -------------------------------------------------------------------------

# Logon events: the Subject is the account that asked for the logon (often the computer or
# SYSTEM); it is the user only when the event names no Target account.
SUBJECT_FALLBACK = {
    "SubjectUserSid": fallback("user.id"),
    "SubjectUserName": fallback("user.name"),
    "SubjectDomainName": fallback("user.domain"),
    "SubjectLogonId": fallback("winlog.logon.id"),
}
SUBJECT_USER = {
    "SubjectUserSid": "user.id",
    "SubjectUserName": "user.name",
    "SubjectDomainName": "user.domain",
    "SubjectLogonId": "winlog.logon.id",
}

SECURITY_DATA = {
    **SUBJECT_FALLBACK,
    "TargetUserSid": "user.id",
    "TargetSid": "user.id",
    "TargetUserName": "user.name",
    "TargetDomainName": "user.domain",
    "TargetLogonId": "winlog.logon.id",
    "LogonType": "winlog.logon.type",
    "LogonProcessName": None,
    "AuthenticationPackageName": None,
    "WorkstationName": "source.domain",
    "Workstation": "source.domain",
    "LogonGuid": None,
    "TransmittedServices": None,
    "LmPackageName": None,
    "KeyLength": None,
    # 4688 writes the new process as NewProcessId/NewProcessName (they come first)
    "ProcessId": fallback("process.pid"),
    "ProcessName": fallback("process.executable"),
    "IpAddress": "source.ip",
    "IpPort": "source.port",
    "ImpersonationLevel": None,
    "RestrictedAdminMode": None,
    "TargetOutboundUserName": None,
    "TargetOutboundDomainName": None,
    "VirtualAccount": None,
    "TargetLinkedLogonId": None,
    "ElevatedToken": None,
    "Status": None,
    "SubStatus": None,
    "FailureReason": None,
    "TargetLogonGuid": None,
    "TargetServerName": None,
    "TargetInfo": None,
    "PrivilegeList": None,
    # 4688 / 4689
    "NewProcessId": "process.pid",
    "NewProcessName": "process.executable",
    "TokenElevationType": None,
    "CommandLine": "process.command_line",
    "ParentProcessName": "process.parent.executable",
    "MandatoryLabel": None,
    # 4697
    "ServiceName": "service.name",
    "ServiceFileName": None,
    "ServiceType": "service.type",
    "ServiceStartType": None,
    "ServiceAccount": None,
    "ServiceSid": None,
    # 4698-4702
    "TaskName": None,
    "TaskContent": None,
    "TaskContentNew": None,
    "ClientProcessStartKey": None,
    "ClientProcessId": None,
    "ParentProcessId": None,
    "RpcCallClientLocality": None,
    "FQDN": None,
    # 4719
    "CategoryId": None,
    "SubcategoryId": None,
    "SubcategoryGuid": None,
    "AuditPolicyChanges": None,
    # 4720 / 4738 account attributes
    "SamAccountName": None,
    "DisplayName": None,
    "UserPrincipalName": None,
    "HomeDirectory": None,
    "HomePath": None,
    "ScriptPath": None,
    "ProfilePath": None,
    "UserWorkstations": None,
    "PasswordLastSet": None,
    "AccountExpires": None,
    "PrimaryGroupId": None,
    "AllowedToDelegateTo": None,
    "OldUacValue": None,
    "NewUacValue": None,
    "UserAccountControl": None,
    "UserParameters": None,
    "SidHistory": None,
    "LogonHours": None,
    "Dummy": None,
    # 4728 / 4732 / 4756
    "MemberName": None,
    "MemberSid": None,
    # 4768 / 4769 / 4771 / 4776
    "TicketOptions": None,
    "TicketEncryptionType": None,
    "PreAuthType": None,
    "CertIssuerName": None,
    "CertSerialNumber": None,
    "CertThumbprint": None,
    "PackageName": None,
    # 4798 / 4799
    "CallerProcessId": "process.pid",
    "CallerProcessName": "process.executable",
    # 5140 / 5145
    "ObjectType": None,
    "ShareName": None,
    "ShareLocalPath": None,
    "RelativeTargetName": "file.path",
    "AccessMask": None,
    "AccessList": None,
    "AccessReason": None,
    # 5156 (Windows Filtering Platform)
    "Application": "process.executable",
    "Direction": None,
    "SourceAddress": "source.ip",
    "SourcePort": "source.port",
    "DestAddress": "destination.ip",
    "DestPort": "destination.port",
    "Protocol": "network.iana_number",
    "FilterRTID": None,
    "LayerName": None,
    "LayerRTID": None,
    "RemoteUserID": None,
    "RemoteMachineID": None,
}

ACCOUNT = {
    **SUBJECT_USER,
    "TargetUserSid": "user.target.id",
    "TargetSid": "user.target.id",
    "TargetUserName": "user.target.name",
    "TargetDomainName": "user.target.domain",
}

SECURITY = {
    "id": "windows_security",
    "vendor": "Microsoft",
    "product": "Windows",
    "observer_type": "",
    "module": "windows",
    "prefix": "winlog",
    "package": "rules/windows_security",
    "docs": [
        "https://learn.microsoft.com/en-us/windows/win32/wes/eventschema-schema",
        "https://learn.microsoft.com/en-us/windows/win32/wes/eventschema-systempropertiestype-complextype",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/advanced-security-audit-policy-settings",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4624",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4625",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4688",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4720",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4728",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4768",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-5156",
        "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-1102",
        "https://docs.nxlog.co/refman/current/im/msvistalog.html",
        "https://www.elastic.co/guide/en/beats/winlogbeat/current/exported-fields-winlog.html",
    ],
    "signatures": [
        (r"Microsoft-Windows-Security-Auditing", 0.9, "the Security auditing provider (XML Provider Name, NXLog SourceName, Winlogbeat provider_name)"),
        (r"<Channel>Security</Channel>", 0.85, "event XML of the Security channel"),
        (r'"(?:Channel|channel)"\s*:\s*"Security"', 0.85, "JSON rendering (NXLog, Winlogbeat) of a Security channel event"),
        (r"<Provider\b[^>]*Microsoft-Windows-Eventlog\b.*<EventID\b[^>]*>1102<", 0.9, "1102: the Security log was cleared (Eventlog provider)"),
        (r"<EventID\b[^>]*>\d+</EventID>.*<Data Name=.(?:Subject|Target)(?:UserName|UserSid|DomainName)\b", 0.75, "Windows event XML with Subject/Target account data (Security audit schema)"),
    ],
    "when_any": {
        "xml": r"<EventID\b",
        "nxlog_json": r'"EventID"\s*:',
        "winlogbeat_json": r'"event_id"\s*:',
    },
    "data": SECURITY_DATA,
    # 1102 carries its data in UserData/LogFileCleared
    "user_data": {
        "LogFileCleared.SubjectUserSid": "user.id",
        "LogFileCleared.SubjectUserName": "user.name",
        "LogFileCleared.SubjectDomainName": "user.domain",
        "LogFileCleared.SubjectLogonId": "winlog.logon.id",
    },
    "extra_system": {},
    "groups": [
        {"name": "logon", "ids": [4624, 4625, 4634, 4647, 4648, 4768, 4769, 4771, 4776, 5156]},
        {
            "name": "process",
            "ids": [4688],
            "data": {**SUBJECT_USER, "ProcessId": "process.parent.pid", "TargetUserSid": "user.effective.id", "TargetUserName": "user.effective.name", "TargetDomainName": "user.effective.domain", "TargetLogonId": None},
        },
        {"name": "subject", "ids": [4672, 4689, 4697, 4698, 4699, 4700, 4701, 4702, 4719, 5140, 5145, 1102], "data": {**SUBJECT_USER}},
        {"name": "account", "ids": [4720, 4722, 4723, 4724, 4725, 4726, 4738, 4740, 4767, 4798], "data": ACCOUNT},
        {
            "name": "group",
            "ids": [4728, 4732, 4756, 4799],
            "data": {
                **SUBJECT_USER,
                "TargetUserName": "group.name",
                "TargetDomainName": "group.domain",
                "TargetSid": "group.id",
                "MemberName": "user.target.name",
                "MemberSid": "user.target.id",
            },
        },
    ],
    "categorize": [
        ev(4624, ["authentication"], ["start"], "logged-in", "success"),
        ev(4625, ["authentication"], ["start"], "logon-failed", "failure"),
        ev(4634, ["authentication"], ["end"], "logged-out", "success"),
        ev(4647, ["authentication"], ["end"], "logged-out", "success"),
        ev(4648, ["authentication"], ["start"], "logged-in-explicit", "success"),
        ev(4672, ["iam"], ["admin"], "logged-in-special", "success"),
        ev(4688, ["process"], ["start"], "created-process", "success"),
        ev(4689, ["process"], ["end"], "exited-process", "success"),
        ev(4697, ["iam", "configuration"], ["admin", "change"], "service-installed", "success"),
        ev(4698, ["iam", "configuration"], ["creation", "admin"], "scheduled-task-created", "success"),
        ev(4699, ["iam", "configuration"], ["deletion", "admin"], "scheduled-task-deleted", "success"),
        ev(4700, ["iam", "configuration"], ["change", "admin"], "scheduled-task-enabled", "success"),
        ev(4701, ["iam", "configuration"], ["change", "admin"], "scheduled-task-disabled", "success"),
        ev(4702, ["iam", "configuration"], ["change", "admin"], "scheduled-task-updated", "success"),
        ev(4719, ["iam", "configuration"], ["admin", "change"], "changed-audit-config", "success"),
        ev(4720, ["iam"], ["user", "creation"], "added-user-account", "success"),
        ev(4722, ["iam"], ["user", "change"], "enabled-user-account", "success"),
        ev(4723, ["iam"], ["user", "change"], "changed-password", "success"),
        ev(4724, ["iam"], ["user", "change"], "reset-password", "success"),
        ev(4725, ["iam"], ["user", "change"], "disabled-user-account", "success"),
        ev(4726, ["iam"], ["user", "deletion"], "deleted-user-account", "success"),
        ev(4728, ["iam"], ["group", "change"], "added-member-to-group", "success"),
        ev(4732, ["iam"], ["group", "change"], "added-member-to-group", "success"),
        ev(4738, ["iam"], ["user", "change"], "modified-user-account", "success"),
        ev(4740, ["iam"], ["user", "change"], "locked-out-user-account", "success"),
        ev(4756, ["iam"], ["group", "change"], "added-member-to-group", "success"),
        ev(4767, ["iam"], ["user", "change"], "unlocked-user-account", "success"),
        ev(4768, ["authentication"], ["start"], "kerberos-authentication-ticket-requested"),
        ev(4769, ["authentication"], ["start"], "kerberos-service-ticket-requested"),
        ev(4771, ["authentication"], ["start"], "kerberos-preauth-failed", "failure"),
        ev(4776, ["authentication"], ["start"], "credential-validated"),
        ev(4798, ["iam"], ["user", "info"], "group-membership-enumerated", "success"),
        ev(4799, ["iam"], ["group", "info"], "user-member-enumerated", "success"),
        ev(5140, ["network", "file"], ["info", "access"], "network-share-object-accessed", "success"),
        ev(5145, ["network", "file"], ["info", "access"], "network-share-object-access-checked"),
        ev(5156, ["network"], ["connection", "start", "allowed"], "windows-firewall-connection-allowed", "success"),
        ev(1102, ["iam"], ["admin", "change"], "audit-log-cleared", "success"),
        # Kerberos/NTLM result codes: 0x0 is success (4768, 4769, 4776); audit keywords and NXLog EventType
        {"value": "0x0", "key": {"xml": "Event.EventData.Status", "nxlog_json": "Status", "winlogbeat_json": "winlog.event_data.Status"}, "outcome": "success"},
        {"value": "0x8020000000000000", "key": {"xml": "Event.System.Keywords", "nxlog_json": "Keywords", "winlogbeat_json": "winlog.keywords"}, "outcome": "success"},
        {"value": "0x8010000000000000", "key": {"xml": "Event.System.Keywords", "nxlog_json": "Keywords", "winlogbeat_json": "winlog.keywords"}, "outcome": "failure"},
        # NXLog writes Keywords as a signed 64-bit integer
        {"value": "-9214364837600034816", "key": {"nxlog_json": "Keywords"}, "outcome": "success"},
        {"value": "-9218868437227405312", "key": {"nxlog_json": "Keywords"}, "outcome": "failure"},
        {"value": "AUDIT_SUCCESS", "key": {"nxlog_json": "EventType"}, "outcome": "success"},
        {"value": "AUDIT_FAILURE", "key": {"nxlog_json": "EventType"}, "outcome": "failure"},
    ],
}


# ---- Sysmon (Windows and Linux) ---------------------------------------------------------------

SYSMON_DATA = {
    "RuleName": "rule.name",
    "UtcTime": None,
    "ProcessGuid": "process.entity_id",
    "ProcessId": "process.pid",
    "Image": "process.executable",
    "FileVersion": "process.pe.file_version",
    "Description": "process.pe.description",
    "Product": "process.pe.product",
    "Company": "process.pe.company",
    "OriginalFileName": "process.pe.original_file_name",
    "CommandLine": "process.command_line",
    "CurrentDirectory": "process.working_directory",
    "User": "user.name",
    "LogonGuid": None,
    "LogonId": None,
    "TerminalSessionId": None,
    "IntegrityLevel": None,
    # Hashes lists the configured algorithms (MD5=…,SHA256=…,IMPHASH=…): one field each
    "Hashes": "process.hash.sha256",
    "ParentProcessGuid": "process.parent.entity_id",
    "ParentProcessId": "process.parent.pid",
    "ParentImage": "process.parent.executable",
    "ParentCommandLine": "process.parent.command_line",
    "ParentUser": None,
    "TargetFilename": "file.path",
    "CreationUtcTime": ("file.created", "date", "%Y-%m-%d %H:%M:%S%.f"),
    "PreviousCreationUtcTime": None,
    "Protocol": "network.transport",
    "Initiated": None,
    "SourceIsIpv6": None,
    "SourceIp": "source.ip",
    "SourceHostname": "source.domain",
    "SourcePort": "source.port",
    "SourcePortName": None,
    "DestinationIsIpv6": None,
    "DestinationIp": "destination.ip",
    "DestinationHostname": "destination.domain",
    "DestinationPort": "destination.port",
    "DestinationPortName": None,
    "State": None,
    "Version": None,
    "SchemaVersion": None,
    "ImageLoaded": "dll.path",
    "Signed": ("dll.code_signature.exists", "boolean"),
    "Signature": "dll.code_signature.subject_name",
    "SignatureStatus": "dll.code_signature.status",
    "SourceProcessGuid": "process.entity_id",
    "SourceProcessGUID": "process.entity_id",
    "SourceProcessId": "process.pid",
    "SourceThreadId": "process.thread.id",
    "SourceImage": "process.executable",
    "TargetProcessGuid": None,
    "TargetProcessGUID": None,
    "TargetProcessId": None,
    "TargetImage": None,
    "NewThreadId": None,
    "StartAddress": None,
    "StartModule": None,
    "StartFunction": None,
    "GrantedAccess": None,
    "CallTrace": None,
    "SourceUser": "user.name",
    "TargetUser": "user.target.name",
    "Device": None,
    "EventType": None,
    "TargetObject": "registry.path",
    "Details": "registry.data.strings",
    "NewName": None,
    "Hash": "file.hash.sha256",
    "Contents": None,
    "Configuration": None,
    "ConfigurationFileHash": None,
    "PipeName": "file.name",
    "Operation": None,
    "EventNamespace": None,
    "Name": None,
    "Query": None,
    "Type": None,
    "Destination": None,
    "Consumer": None,
    "Filter": None,
    "QueryName": "dns.question.name",
    "QueryStatus": None,
    "QueryResults": None,
    "IsExecutable": None,
    "Archived": None,
    "Session": None,
    "ClientInfo": None,
    "ID": None,
}

SYSMON_ACTIONS = {
    1: ("Process Create (rule: ProcessCreate)", ["process"], ["start"]),
    2: ("File creation time changed (rule: FileCreateTime)", ["file"], ["change"]),
    3: ("Network connection detected (rule: NetworkConnect)", ["network"], ["connection", "start", "info"]),
    4: ("Sysmon service state changed", ["process"], ["change"]),
    5: ("Process terminated (rule: ProcessTerminate)", ["process"], ["end"]),
    6: ("Driver loaded (rule: DriverLoad)", ["driver"], ["start"]),
    7: ("Image loaded (rule: ImageLoad)", ["library"], ["start"]),
    8: ("CreateRemoteThread detected (rule: CreateRemoteThread)", ["process"], ["change"]),
    9: ("RawAccessRead detected (rule: RawAccessRead)", ["file"], ["access"]),
    10: ("Process accessed (rule: ProcessAccess)", ["process"], ["access"]),
    11: ("File created (rule: FileCreate)", ["file"], ["creation"]),
    12: ("Registry object added or deleted (rule: RegistryEvent)", ["registry"], []),
    13: ("Registry value set (rule: RegistryEvent)", ["registry"], ["change"]),
    14: ("Registry object renamed (rule: RegistryEvent)", ["registry"], ["change"]),
    15: ("File stream created (rule: FileCreateStreamHash)", ["file"], ["creation"]),
    16: ("Sysmon config state changed", ["configuration"], ["change"]),
    17: ("Pipe Created (rule: PipeEvent)", ["file"], ["creation"]),
    18: ("Pipe Connected (rule: PipeEvent)", ["file"], ["access"]),
    19: ("WmiEventFilter activity detected (rule: WmiEvent)", ["configuration"], ["change"]),
    20: ("WmiEventConsumer activity detected (rule: WmiEvent)", ["configuration"], ["change"]),
    21: ("WmiEventConsumerToFilter activity detected (rule: WmiEvent)", ["configuration"], ["change"]),
    22: ("Dns query (rule: DnsQuery)", ["network"], ["connection", "protocol", "info"]),
    23: ("File Delete archived (rule: FileDelete)", ["file"], ["deletion"]),
    24: ("Clipboard changed (rule: ClipboardChange)", ["host"], ["change"]),
    25: ("Process Tampering (rule: ProcessTampering)", ["process"], ["change"]),
    26: ("File Delete logged (rule: FileDeleteDetected)", ["file"], ["deletion"]),
    27: ("File Block Executable (rule: FileBlockExecutable)", ["file"], ["creation", "denied"]),
    28: ("File Block Shredding (rule: FileBlockShredding)", ["file"], ["deletion", "denied"]),
    29: ("File Executable Detected (rule: FileExecutableDetected)", ["file"], ["creation"]),
    255: ("Error report", ["host"], ["error"]),
}


def sysmon_categorize():
    rows = []
    for i, (action, cat, ty) in SYSMON_ACTIONS.items():
        c = {"value": i, "kind": "event", "category": cat, "action": action}
        if ty:
            c["type"] = ty
        rows.append(c)
    data_key = {"xml": "Event.EventData.{}", "nxlog_json": "{}", "winlogbeat_json": "winlog.event_data.{}"}

    def dk(name):
        return {r: t.format(name) for r, t in data_key.items()}

    # Registry event 12 says in EventType whether a key or value was created or deleted
    for v, ty in [("CreateKey", ["creation"]), ("DeleteKey", ["deletion"]), ("DeleteValue", ["deletion"]), ("SetValue", ["change"]), ("RenameKey", ["change"])]:
        rows.append({"value": v, "key": dk("EventType"), "type": ty})
    return rows


SYSMON = {
    "id": "windows_sysmon",
    "vendor": "Microsoft",
    "product": "Sysmon",
    "observer_type": "",
    "module": "sysmon",
    "prefix": "winlog",
    "package": "rules/windows_sysmon",
    "docs": [
        "https://learn.microsoft.com/en-us/sysinternals/downloads/sysmon",
        "https://github.com/Sysinternals/SysmonForLinux",
        "https://learn.microsoft.com/en-us/windows/win32/wes/eventschema-schema",
        "https://docs.nxlog.co/refman/current/im/msvistalog.html",
        "https://www.elastic.co/guide/en/beats/winlogbeat/current/exported-fields-winlog.html",
    ],
    "signatures": [
        (r"Microsoft-Windows-Sysmon", 0.95, "the Sysmon provider / Microsoft-Windows-Sysmon/Operational channel"),
        (r"Linux-Sysmon", 0.95, "Sysmon for Linux (provider Linux-Sysmon, channel Linux-Sysmon/Operational)"),
        (r'(?:Name=.|")(?:ProcessGuid|SourceProcessGUID|SourceProcessGuid)(?:.>|"\s*:\s*")\{[0-9a-fA-F-]{36}\}', 0.85, "a Sysmon process GUID datum ({...} ProcessGuid)"),
    ],
    "when_any": {
        "xml": r"<EventID\b",
        "nxlog_json": r'"EventID"\s*:',
        "winlogbeat_json": r'"event_id"\s*:',
    },
    "extra_system": {"xml": {"Event.System.Security.UserId": "winlog.user.identifier"}},
    "data": SYSMON_DATA,
    "groups": [
        {"name": "events", "ids": [i for i in SYSMON_ACTIONS if i not in (6, 7)]},
        {
            "name": "image_load",
            "ids": [7],
            "data": {
                "FileVersion": "dll.pe.file_version",
                "Description": "dll.pe.description",
                "Product": "dll.pe.product",
                "Company": "dll.pe.company",
                "OriginalFileName": "dll.pe.original_file_name",
                "Hashes": "dll.hash.sha256",
            },
        },
        {
            "name": "driver_load",
            "ids": [6],
            "data": {
                "ImageLoaded": "file.path",
                "Signed": ("file.code_signature.exists", "boolean"),
                "Signature": "file.code_signature.subject_name",
                "SignatureStatus": "file.code_signature.status",
                "Hashes": "file.hash.sha256",
            },
        },
    ],
    "categorize": sysmon_categorize(),
}


# ---- PowerShell -------------------------------------------------------------------------------

POWERSHELL_ACTIONS = {
    4103: ("Executing Pipeline", ["process"], ["info"]),
    4104: ("Execute a Remote Command", ["process"], ["info"]),
    4105: ("Starting Command", ["process"], ["start"]),
    4106: ("Completing Command", ["process"], ["end"]),
    40961: ("PowerShell Console Startup", ["process"], ["start"]),
    40962: ("PowerShell Console Startup", ["process"], ["start"]),
    400: ("Engine Lifecycle", ["process"], ["start"]),
    403: ("Engine Lifecycle", ["process"], ["end"]),
    600: ("Provider Lifecycle", ["process"], ["info"]),
    800: ("Pipeline Execution Details", ["process"], ["info"]),
}

POWERSHELL = {
    "id": "windows_powershell",
    "vendor": "Microsoft",
    "product": "PowerShell",
    "observer_type": "",
    "module": "powershell",
    "prefix": "winlog",
    "package": "rules/windows_powershell",
    "docs": [
        "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/about_logging_windows",
        "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/about/about_eventlogs",
        "https://learn.microsoft.com/en-us/windows/win32/wes/eventschema-schema",
        "https://docs.nxlog.co/refman/current/im/msvistalog.html",
        "https://www.elastic.co/guide/en/beats/winlogbeat/current/exported-fields-winlog.html",
    ],
    "signatures": [
        (r"Microsoft-Windows-PowerShell", 0.95, "the PowerShell provider / Microsoft-Windows-PowerShell/Operational channel"),
        (r'<Channel>Windows PowerShell</Channel>|"(?:Channel|channel)"\s*:\s*"Windows PowerShell"', 0.95, "the classic Windows PowerShell event log (events 400, 403, 600, 800)"),
        (r"<Provider\s+Name=.PowerShell.", 0.9, "the classic PowerShell provider"),
        (r'(?:Name=.|")ScriptBlockText(?:.>|"\s*:)', 0.9, "script block logging (4104 ScriptBlockText)"),
        (r"\bHostApplication=.*\bEngineVersion=", 0.8, "engine/provider lifecycle details (HostApplication=, EngineVersion=)"),
    ],
    "when_any": {
        "xml": r"<EventID\b",
        "nxlog_json": r'"EventID"\s*:',
        "winlogbeat_json": r'"event_id"\s*:',
    },
    "extra_system": {
        # classic events carry positional <Data> elements (param1..param3: state, previous state
        # or provider, the details text)
        "xml": {"Event.System.Security.UserID": "user.id"},
        "nxlog_json": {"UserID": "user.id", "AccountName": "user.name", "Domain": "user.domain"},
        "winlogbeat_json": {"winlog.user.identifier": "user.id", "winlog.user.name": "user.name", "winlog.user.domain": "user.domain"},
    },
    "data": {
        "MessageNumber": None,
        "MessageTotal": None,
        "ScriptBlockText": None,
        "ScriptBlockId": None,
        "Path": "file.path",
        "ContextInfo": None,
        "UserData": None,
        "Payload": None,
        "RunspaceId": None,
        "param1": None,
        "param2": None,
        "param3": None,
    },
    "groups": [{"name": "events", "ids": list(POWERSHELL_ACTIONS)}],
    "categorize": [
        {"value": i, "kind": "event", "category": c, "type": t, "action": a} for i, (a, c, t) in POWERSHELL_ACTIONS.items()
    ],
}


# ---- Microsoft Defender Antivirus -------------------------------------------------------------

DEFENDER_DETECTION = {
    "Product Name": None,
    "Product Version": None,
    "Detection ID": None,
    "Detection Time": None,
    "Threat ID": "rule.id",
    "Threat Name": "rule.name",
    "Severity ID": ("event.severity", "long"),
    "Severity Name": None,
    "Category ID": None,
    "Category Name": "rule.category",
    "FWLink": "rule.reference",
    "Status Code": None,
    "Status Description": None,
    "State": None,
    "Source ID": None,
    "Source Name": None,
    "Process Name": "process.executable",
    "Detection User": "user.name",
    "Path": "file.path",
    "Origin ID": None,
    "Origin Name": None,
    "Execution ID": None,
    "Execution Name": None,
    "Type ID": None,
    "Type Name": None,
    "Pre Execution Status": None,
    "Action ID": None,
    "Action Name": None,
    "Error Code": "error.code",
    "Error Description": "error.message",
    "Post Clean Status": None,
    "Additional Actions ID": None,
    "Additional Actions String": None,
    "Remediation User": None,
    "Security intelligence Version": None,
    "Signature Version": None,
    "Engine Version": None,
    # scans (1000-1002, 1005), configuration (5007), updates (2000/2001)
    "Scan ID": None,
    "Scan Type Index": None,
    "Scan Type": None,
    "Scan Parameters Index": None,
    "Scan Parameters": None,
    "Scan Resources": None,
    "Scan Time Hours": None,
    "Scan Time Minutes": None,
    "Scan Time Seconds": None,
    "Domain": "user.domain",
    "User": "user.name",
    "SID": "user.id",
    "Old Value": None,
    "New Value": None,
    "Current Security intelligence Version": None,
    "Previous Security intelligence Version": None,
    "Current Engine Version": None,
    "Previous Engine Version": None,
    "Update Type": None,
}

DEFENDER_ACTIONS = {
    1000: ("scan-started", "event", ["malware"], ["start"], None),
    1001: ("scan-completed", "event", ["malware"], ["end"], "success"),
    1002: ("scan-stopped", "event", ["malware"], ["end"], None),
    1005: ("scan-failed", "event", ["malware"], ["end"], "failure"),
    1006: ("malware-detected", "alert", ["malware"], ["info"], None),
    1007: ("malware-action-taken", "alert", ["malware"], ["info"], "success"),
    1008: ("malware-action-failed", "alert", ["malware"], ["info"], "failure"),
    1116: ("malware-detected", "alert", ["malware"], ["info"], None),
    1117: ("malware-action-taken", "alert", ["malware"], ["info"], "success"),
    1118: ("malware-action-failed", "alert", ["malware"], ["info"], "failure"),
    1119: ("malware-action-critically-failed", "alert", ["malware"], ["info"], "failure"),
    2000: ("security-intelligence-updated", "event", ["configuration"], ["change"], "success"),
    2001: ("security-intelligence-update-failed", "event", ["configuration"], ["change"], "failure"),
    5001: ("real-time-protection-disabled", "event", ["configuration"], ["change"], "success"),
    5004: ("real-time-protection-configuration-changed", "event", ["configuration"], ["change"], "success"),
    5007: ("configuration-changed", "event", ["configuration"], ["change"], "success"),
    5010: ("antispyware-scanning-disabled", "event", ["configuration"], ["change"], "success"),
    5012: ("antivirus-scanning-disabled", "event", ["configuration"], ["change"], "success"),
}

DEFENDER = {
    "id": "windows_defender",
    "vendor": "Microsoft",
    "product": "Defender Antivirus",
    "observer_type": "",
    "module": "windows_defender",
    "prefix": "winlog",
    "package": "rules/windows_defender",
    "docs": [
        "https://learn.microsoft.com/en-us/defender-endpoint/troubleshoot-microsoft-defender-antivirus",
        "https://learn.microsoft.com/en-us/windows/win32/wes/eventschema-schema",
        "https://docs.nxlog.co/refman/current/im/msvistalog.html",
        "https://www.elastic.co/guide/en/beats/winlogbeat/current/exported-fields-winlog.html",
    ],
    "signatures": [
        (r"Microsoft-Windows-Windows Defender", 0.95, "the Defender Antivirus provider / Microsoft-Windows-Windows Defender/Operational channel"),
        (r'(?:Name=.|")Threat Name(?:.>|"\s*:).*(?:Name=.|")(?:Security intelligence|Signature) Version(?:.>|"\s*:)', 0.85, "a detection record: Threat Name and the security intelligence version"),
    ],
    "when_any": {
        "xml": r"<EventID\b",
        "nxlog_json": r'"EventID"\s*:',
        "winlogbeat_json": r'"event_id"\s*:',
    },
    "extra_system": {},
    "data": DEFENDER_DETECTION,
    "groups": [{"name": "events", "ids": list(DEFENDER_ACTIONS)}],
    "categorize": [
        {k: v for k, v in {"value": i, "kind": kind, "category": c, "type": t, "action": a, "outcome": o}.items() if v is not None}
        for i, (a, kind, c, t, o) in DEFENDER_ACTIONS.items()
    ],
}


def main():
    for p in PRODUCTS:
        path = os.path.join(ROOT, p["id"] + ".toml")
        with open(path, "w") as f:
            f.write(render(p))
        print("wrote", os.path.relpath(path))


PRODUCTS = [SECURITY, SYSMON, POWERSHELL, DEFENDER]

if __name__ == "__main__":
    main()
