"""The tour's access-control topic: protect the raw data, watch labvault refuse to record a change
to it, check its provenance card, grant a group read access with ACLs, and audit the result."""

from __future__ import annotations

import grp
import os
import shutil
import stat

from tourkit import Tour

RAW = "data/raw/dataset.csv"


def step_protect(tour: Tour) -> None:
    with tour.section("Immutable raw data: protect, detect, refuse, card check"):
        results = tour.labvault_json("protect", RAW)
        tour.check(len(results) == 1 and results[0]["kind"] == "repo", "protect names the tracked output")
        mode = stat.S_IMODE(tour.path(RAW).stat().st_mode)
        tour.check(mode & 0o222 == 0, f"{RAW} has no write bit left (mode {mode:04o})")
        tour.check("protected: true" in tour.path(f"{RAW}.dvc").read_text(), "the .dvc file carries the marker")
        tour.git("add", f"{RAW}.dvc")
        tour.git("commit", "-q", "-m", "Raw data is read-only")
        flag = results[0]["immutable"]
        tour.say("the immutable flag (chattr +i) applied: "
                 + ("yes: even root cannot change the file" if flag else f"no ({results[0]['immutable_problem']})"))
        tour.say("suppose someone changes the raw data anyway (root can, when the flag could not be set)")
        if flag:
            tour.run(["chattr", "-i", str(tour.path(RAW))], display=f"chattr -i {RAW}")
        os.chmod(tour.path(RAW), mode | 0o200)
        with tour.path(RAW).open("a", encoding="utf-8") as f:
            f.write("99999,lamp,5,\"sneaked in\",0\n")
        status = tour.labvault("status")
        tour.check(f"{RAW}: protected, modified" in status, "status flags the protected dataset as modified")
        tour.labvault("commit", RAW, expect=4)
        tour.say("restore the recorded version instead (a new version would be `labvault commit --new-version`)")
        tour.labvault("unprotect", RAW)
        tour.labvault("checkout", "--force", RAW)
        tour.labvault("protect", RAW)
        tour.check(tour.labvault_json("status")["clean"] is True, "the raw data is back as recorded")
        report = tour.labvault_json("card", "check", "data/raw", expect=1)
        tour.check(any("without a provenance card" in p["problem"] or "no provenance card" in p["problem"]
                       for p in report["problems"]), "card check wants a card for the protected raw data")
        tour.labvault("card", "new", "data/raw", "--source", "https://example.com/reviews", "--license",
                      "CC BY 4.0", "--description", "Synthetic product reviews")
        report = tour.labvault_json("card", "check", "data/raw", expect=None)
        tour.check(not any("provenance card" in p["problem"] for p in report["problems"]),
                   "with data/raw/README.md written, the card exists (its TODO fields are reported)")
        tour.found(f"{RAW} is read-only, recorded as protected; changes are seen and refused")


def step_access(tour: Tour) -> None:
    with tour.section("Access control: grant a group read access, audit"):
        if shutil.which("setfacl") is None:
            tour.say("setfacl is not installed (Debian package `acl`): the ACL part is left out")
            return
        group = grp.getgrgid(os.getgid()).gr_name
        tour.labvault("access", "grant", f"group:{group}", "read", "data/images", "--dry-run")
        tour.labvault("access", "grant", f"group:{group}", "read", "data/images")
        shown = tour.labvault_json("access", "show")
        tour.check([(g["principal"], g["permission"]) for g in shown] == [(group, "read")], "the grant is recorded")
        tour.labvault("access", "check")
        victim = sorted(p for p in tour.path("data/images").rglob("*") if p.is_file())[0]
        tour.say(f"make {victim.relative_to(tour.root)} world-writable, as a careless copy might")
        os.chmod(victim, 0o666)
        report = tour.labvault_json("access", "check", expect=1)
        tour.check(any(p["kind"] == "world_writable" for p in report["problems"]), "the audit finds it")
        os.chmod(victim, 0o644)
        tour.labvault("access", "check")
        tour.labvault("access", "revoke", f"group:{group}", "read", "data/images")
        tour.say("lift the protection again, so that the demo folder can be deleted")
        tour.labvault("unprotect", RAW)
        tour.git("add", f"{RAW}.dvc")
        tour.git("commit", "-q", "-m", "Raw data editable again")
        tour.found("grants are ACL entries (inherited by new files) recorded in the catalog; the audit finds drift")


STEPS = [step_protect, step_access]
