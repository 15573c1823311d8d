"""RFC 4475's 49 SIP torture test messages, as datagrams for a UAS on 127.0.0.1.

RFC 4475 ("Session Initiation Protocol (SIP) Torture Test Messages", May 2006)
gives 49 messages and says what an element should do with each. This module holds
them as test vectors for ``test_rfc4475.py``, which sends each one to a real
``attendant serve``: an auto-attendant UAS that takes any INVITE, answers OPTIONS,
and is neither a proxy nor a registrar.

The bytes are the RFC's, checked byte for byte against the files of the archive
in its Appendix A, with its representation conventions resolved: lines the RFC folds for print and
marks ``<allOneLine>`` (section 2.1) are single lines here, ``<hex>`` runs (2.2)
are the octets themselves (bytes literals, or ``bytes.fromhex`` for the binary
body part of mpart01), and ``<repeat count=N>`` runs (2.3) are ``"text" * N``.
Lines end in CRLF, and every deliberately odd octet (NUL, DEL, bare LF inside the
binary body, trailing blanks, %-escapes that are not escapes) is kept.

To run on loopback only, each address the server could send to becomes a
placeholder filled in at run time (:meth:`Torture.datagram`):

* the sent-by of the top Via, where responses go, becomes ``{{peer}}``, the test
  socket's 127.0.0.1:port; the other Via values stay, being history the server
  never uses;
* the Contact of every INVITE-like request (the dialog's remote target) and of
  every response (where a stray 2xx could be acknowledged) becomes ``{{peer}}``;
  Contacts of OPTIONS, REGISTER and other methods stay, since nothing is sent to
  them;
* SDP ``o=`` and ``c=`` addresses become ``{{host}}`` (127.0.0.1); media ports
  stay;
* a Content-Length that was right becomes ``{{length}}``, recomputed after the
  substitutions; a deliberately wrong one (clerr, ncl, mcl01) stays as the RFC
  wrote it.

The datagrams go over UDP, and the server listens on UDP only. Where the top Via
names TCP or TLS (intmeth, esc02, longreq, scalar02, trws, unkscm, novelsc, bext01,
regaut01), pjsip would answer over that transport, which it does not have, and
the answer would never leave; those Vias get ``;rport`` (RFC 3581) so that the
answer goes back the way the datagram came. None of those messages tests the
transport of its top Via. Responses in the corpus keep their Vias, since
no one answers a response; the Request-URIs stay as the RFC wrote them (the
server answers any user). Each message whose bytes differ from the RFC's in
another way says so in a comment.

``expect`` holds the outcomes the RFC allows for an element like this one: status
codes, or :data:`NO_ANSWER` for silence. Where the RFC describes a registrar or
a proxy, the answer of a UAS that is neither is taken instead (405 for REGISTER),
and a 400 the RFC asks for on a malformed part stays allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

#: The outcome "no response at all" (for responses, which nobody answers).
NO_ANSWER: Final = 0

PEER: Final = b"{{peer}}"  #: the test socket's host:port
HOST: Final = b"{{host}}"  #: the test socket's host (SDP addresses)
LENGTH: Final = b"{{length}}"  #: the body's length after the substitutions

_CRLF = b"\r\n"
_HEADER_LINE = re.compile(rb"^([^ \t:]+)[ \t]*:[ \t]*(.*)$")


def _lines(*lines: str | bytes) -> bytes:
    """CRLF-joined lines; text lines must be ASCII (other octets are written as bytes)."""
    return _CRLF.join(line.encode("ascii") if isinstance(line, str) else line
                      for line in lines)


@dataclass(frozen=True)
class Torture:
    """One message of RFC 4475 and the answers it may get from this server."""

    name: str  #: the RFC's short name (its archive's file name), e.g. "wsinv"
    section: str  #: e.g. "3.1.1.1"
    title: str  #: the section's title
    message: bytes  #: the message, with the placeholders above
    expect: frozenset[int]  #: acceptable status codes, or NO_ANSWER
    why: str  #: what the RFC expects, and why these outcomes

    def datagram(self, host: str, port: int) -> bytes:
        """The message as sent from ``host:port``, Content-Length recomputed where it was right."""
        data = self.message.replace(PEER, f"{host}:{port}".encode()).replace(HOST, host.encode())
        head, blank, body = data.partition(_CRLF + _CRLF)
        return head.replace(LENGTH, str(len(body)).encode()) + blank + body

    @property
    def start_line(self) -> str:
        return self.message.split(_CRLF, 1)[0].decode("utf-8", "replace")

    @property
    def is_request(self) -> bool:
        return not self.start_line.startswith("SIP/2.0 ")

    def header_values(self, *names: str) -> list[str]:
        """Values of the headers called any of ``names`` (case-insensitive), unfolded."""
        head = self.message.partition(_CRLF + _CRLF)[0]
        unfolded = re.sub(rb"\r\n[ \t]+", b" ", head).split(_CRLF)[1:]
        wanted = {name.lower() for name in names}
        values = []
        for line in unfolded:
            match = _HEADER_LINE.match(line)
            if match and match.group(1).decode("ascii", "replace").lower() in wanted:
                values.append(match.group(2).decode("utf-8", "replace").strip())
        return values

    @property
    def call_ids(self) -> frozenset[str]:
        """Every Call-ID the message carries (none, one, or several for multi01)."""
        return frozenset(self.header_values("Call-ID", "i"))


#: The SDP offer most of the RFC's INVITEs carry, its addresses made placeholders.
_RFC_SDP: Final = (
    "v=0",
    "o=mhandley 29739 7272939 IN IP4 {{host}}",
    "s=-",
    "c=IN IP4 {{host}}",
    "t=3149328700 0",
    "m=audio 49217 RTP/AVP 0 12",
    "m=video 3227 RTP/AVP 31",
    "a=rtpmap:31 LPC",
    "",
)


#: The DER-encoded CMS SignedData of mpart01's second body part (it holds NUL octets).
_SIGNED_DATA: Final = bytes.fromhex(
    "3082015206092a864886f70d010702a08201433082013f0201013109300706052b0e03021a300b06"
    "092a864886f70d010701318201203082011c020101307c3070310b30090603550406130255533113"
    "30110603550408130a43616c69666f726e69613111300f0603550407130853616e204a6f7365310e"
    "300c060355040a1305736970697431293027060355040b1320536970697420546573742043657274"
    "6966696361746520417574686f7269747902080195007102330113300706052b0e03021a300d0609"
    "2a864886f70d01010105000481808ef466f948f0522dd2e5978e9d95aae9f2fe15a06659716292e8"
    "da2aa8d8350a68ceffae3cbd2bff1675ddd5648e593dd64728f26220f7e941749e330d9a15edabdb"
    "93d10c42102e7b7289d29cc0c9ae2efbc7c0cff9172f3b027e4fc027e1546de4b6aa3abb3e66cccb"
    "5dd6c64b8383149cb8e6ff182d944fe57b65bc99d005"
)


MESSAGES: Final[tuple[Torture, ...]] = (
    # --- 3.1.1 Valid messages --------------------------------------------------------------------
    Torture(
        name="wsinv",
        section="3.1.1.1",
        title="A Short Tortuous INVITE",
        expect=frozenset({200, 481}),
        why=("Well formed under all its folding and odd spacing; its To tag names no dialog "
             "here, so a UAS takes the call or declines to recreate the dialog with 481 "
             "(RFC 3261 12.2.2)."),
        message=_lines(
            "INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0",
            "TO :",
            " sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
            "from   : \"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>",
            "  ;",
            "  tag = 98asjd8",
            "MaX-fOrWaRdS: 0068",
            "Call-ID: wsinv.ndaksdj@192.0.2.1",
            "Content-Length   : {{length}}",
            "cseq: 0009",
            "  INVITE",
            "Via  : SIP  /   2.0",
            " /UDP",
            "    {{peer}};branch=390skdjuw",
            "s :",
            "NewFangledHeader:   newfangled value",
            " continued newfangled value",
            "UnknownHeaderWithUnusualValue: ;;,,;;,;",
            "Content-Type: application/sdp",
            "Route:",
            " <sip:services.example.com;lr;unknownwith=value;unknown-no-value>",
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
            "m:\"Quoted string \\\"\\\"\" <sip:jdrosen@{{peer}}> ; newparam =",
            "      newvalue ;",
            "  secondparam ; q = 0.33",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="intmeth",
        section="3.1.1.2",
        title="Wide Range of Valid Characters",
        expect=frozenset({501}),
        why=("A legal method made of unusual token characters that no one implements: an "
             "endpoint answers 501 with Allow."),
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "!interesting-Method0123456789_*+`.%indeed'~ "
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
            ":&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bK-.!%66*_+`'~;rport",
            # quoted pairs escaping BEL, NUL and DEL
            "To: \"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f\" "
            "<sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>",
            # the fromParam value is UTF-8 (Cyrillic)
            b"From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="
            b"\"\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd1\x8e\xd1\x89\xd0\xb8\xd0\xb9\""
            b";tag=_token~1'+`*%!-.",
            "Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
            "CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~",
            "Max-Forwards: 255",
            # a byte order mark and three CJK characters, in UTF-8
            b"extensionHeader-!.%*+_`'~:\xef\xbb\xbf\xe5\xa4\xa7\xe5\x81\x9c\xe9\x9b\xbb",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="esc01",
        section="3.1.1.3",
        title="Valid Use of the % Escaping Mechanism",
        expect=frozenset({200}),
        why="Legal %-escapes in the URIs; the INVITE is well formed and is taken.",
        message=_lines(
            "INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0",
            "To: sip:%75se%72@example.com",
            "From: <sip:I%20have%20spaces@example.net>;tag=938",
            "Max-Forwards: 87",
            "i: esc01.239409asdfakjkn23onasd0-3234",
            "CSeq: 234234 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "C: application/sdp",
            "Contact:",
            "  <sip:cal%6Cer@{{peer}};%6C%72;n%61me=v%61lue%25%34%31>",
            "Content-Length: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="escnull",
        section="3.1.1.4",
        title="Escaped Nulls in URIs",
        expect=frozenset({405}),
        why=("Escaped NULs in a user part are legal, so the REGISTER parses; a UAS that is "
             "no registrar answers 405."),
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "To: sip:null-%00-null@example.com",
            "From: sip:null-%00-null@example.com;tag=839923423",
            "Max-Forwards: 70",
            "Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd",
            "CSeq: 14398234 REGISTER",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Contact: <sip:%00@host5.example.com>",
            "Contact: <sip:%00%00@host5.example.com>",
            "L:0",
            "",
            "",
        ),
    ),
    Torture(
        name="esc02",
        section="3.1.1.5",
        title="Use of % When It Is Not an Escape",
        expect=frozenset({501}),
        why=("% is no escape in a method name: RE%47IST%45R is an unknown method, which an "
             "endpoint answers 501."),
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "RE%47IST%45R sip:registrar.example.com SIP/2.0",
            "To: \"%Z%45\" <sip:resource@example.com>",
            "From: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23",
            "Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bK209%fzsnel234;rport",
            "CSeq: 29344 RE%47IST%45R",
            "Max-Forwards: 70",
            "Contact: <sip:alias1@host1.example.com>",
            "C%6Fntact: <sip:alias2@host2.example.com>",
            "Contact: <sip:alias3@host3.example.com>",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="lwsdisp",
        section="3.1.1.6",
        title="Message with No LWS between Display Name and <",
        expect=frozenset({200}),
        why="No space between a token display name and < is to be tolerated: OPTIONS gets 200.",
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: caller<sip:caller@example.com>;tag=323",
            "Max-Forwards: 70",
            "Call-ID: lwsdisp.1234abcd@funky.example.com",
            "CSeq: 60 OPTIONS",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="longreq",
        section="3.1.1.7",
        title="Long Values in Header Fields",
        expect=frozenset({200}),
        why="Long values, a long tag and 34 Via values are all legal: the INVITE is taken.",
        # The top Via names TCP and has no branch; only the rport of the module docstring is added.
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "To: \"I have a user name of " + "extreme" * 10 + " proportion\""
            "<sip:user@example.com:6000;unknownparam1=very" + "long" * 20 + "value;"
            "longparam" + "name" * 25 + "=shortvalue;"
            "very" + "long" * 25 + "ParameterNameWithNoValue>",
            "F: sip:" + "amazinglylongcallername" * 5 + "@example.net;tag=12" + "982" * 50 + "424"
            ";unknownheaderparam" + "name" * 20 + "=unknowheaderparam" + "value" * 15
            + ";unknownValueless" + "paramname" * 10,
            "Call-ID: longreq.one" + "really" * 20 + "longcallid",
            "CSeq: 3882340 INVITE",
            "Unknown-" + "Long" * 20 + "-Name: unknown-" + "long" * 20 + "-value; "
            "unknown-" + "long" * 20 + "-parameter-name = "
            "unknown-" + "long" * 20 + "-parameter-value",
            "Via: SIP/2.0/TCP {{peer}};rport",
            "v: SIP/2.0/TCP sip32.example.com",
            "V: SIP/2.0/TCP sip31.example.com",
            "Via: SIP/2.0/TCP sip30.example.com",
            "ViA: SIP/2.0/TCP sip29.example.com",
            "VIa: SIP/2.0/TCP sip28.example.com",
            "VIA: SIP/2.0/TCP sip27.example.com",
            "via: SIP/2.0/TCP sip26.example.com",
            "viA: SIP/2.0/TCP sip25.example.com",
            "vIa: SIP/2.0/TCP sip24.example.com",
            "vIA: SIP/2.0/TCP sip23.example.com",
            "V :  SIP/2.0/TCP sip22.example.com",
            "v :  SIP/2.0/TCP sip21.example.com",
            "V  : SIP/2.0/TCP sip20.example.com",
            "v  : SIP/2.0/TCP sip19.example.com",
            "Via : SIP/2.0/TCP sip18.example.com",
            "Via  : SIP/2.0/TCP sip17.example.com",
            *(f"Via: SIP/2.0/TCP sip{hop}.example.com" for hop in range(16, 0, -1)),
            "Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;branch=very" + "long" * 50
            + "branchvalue",
            "Max-Forwards: 70",
            "Contact: <sip:" + "amazinglylongcallername" * 5 + "@{{peer}}>",
            "Content-Type: application/sdp",
            "l: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="dblreq",
        section="3.1.1.8",
        title="Extra Trailing Octets in a UDP Datagram",
        expect=frozenset({405}),
        why=("The octets after Content-Length in the datagram are noise to ignore; the "
             "REGISTER alone is handled, and a UAS that is no registrar answers 405."),
        # Only the REGISTER's Via is the test peer's: the INVITE after it is noise, kept as it is.
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "To: sip:j.user@example.com",
            "From: sip:j.user@example.com;tag=43251j3j324",
            "Max-Forwards: 8",
            "I: dblreq.0ha0isndaksdj99sdfafnl3lk233412",
            "Contact: sip:j.user@host.example.com",
            "CSeq: 8 REGISTER",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw23492",
            "Content-Length: 0",
            "",
            "",
            "INVITE sip:joe@example.com SIP/2.0",
            "t: sip:joe@example.com",
            "From: sip:caller@example.net;tag=141334",
            "Max-Forwards: 8",
            "Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234",
            "Content-Type: application/sdp",
            "Content-Length: 150",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 192.0.2.15",
            "s=-",
            "c=IN IP4 192.0.2.15",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m =video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
            "",
        ),
    ),
    Torture(
        name="semiuri",
        section="3.1.1.9",
        title="Semicolon-Separated Parameters in URI User Part",
        expect=frozenset({200}),
        why="A ';' inside the Request-URI's user part is legal: OPTIONS gets 200.",
        message=_lines(
            "OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0",
            "To: sip:j_user@example.com",
            "From: sip:caller@example.org;tag=33242",
            "Max-Forwards: 3",
            "Call-ID: semiuri.0ha0isndaksdj",
            "CSeq: 8 OPTIONS",
            "Accept: application/sdp, application/pkcs7-mime,",
            "        multipart/mixed, multipart/signed,",
            "        message/sip, message/sipfrag",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="transports",
        section="3.1.1.10",
        title="Varied and Unknown Transport Types",
        expect=frozenset({200}),
        why="Unknown and varied transports in the lower Via values are legal: OPTIONS gets 200.",
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: <sip:caller@example.com>;tag=323",
            "Max-Forwards: 70",
            "Call-ID:  transports.kijh4akdnaqjkwendsasfdj",
            "Accept: application/sdp",
            "CSeq: 60 OPTIONS",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf",
            "Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj",
            "Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en",
            "Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="mpart01",
        section="3.1.1.11",
        title="Multipart MIME Message",
        expect=frozenset({405}),
        why=("The body holds NUL octets and must still be framed by Content-Length; this "
             "UAS takes no MESSAGE, so 405."),
        # The RFC's own top Via is a loopback address with rport; only its host:port changes.
        message=_lines(
            "MESSAGE sip:kumiko@example.org SIP/2.0",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport",
            "Max-Forwards: 70",
            "Route: <sip:127.0.0.1:5080>",
            "Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMV"
            "bnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5j"
            "iSfbqMJmQFteeivUhkMWYUA=",
            "Contact: <sip:fluffy@127.0.0.1:5070>",
            "To: <sip:kumiko@example.org>",
            "From: <sip:fluffy@example.com>;tag=2fb0dcc9",
            "Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..",
            "CSeq: 1 MESSAGE",
            "Content-Transfer-Encoding: binary",
            "Content-Type: multipart/mixed;boundary=7a9cbec02ceef655",
            "Date: Sat, 15 Oct 2005 04:44:56 GMT",
            "User-Agent: SIPimp.org/0.2.5 (curses)",
            "Content-Length: 553",
            "",
            "--7a9cbec02ceef655",
            "Content-Type: text/plain",
            "Content-Transfer-Encoding: binary",
            "",
            "Hello",
            "--7a9cbec02ceef655",
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: binary",
            "",
            "",
        ) + _SIGNED_DATA + _lines("", "--7a9cbec02ceef655--", ""),
    ),
    Torture(
        name="unreason",
        section="3.1.1.12",
        title="Unusual Reason Phrase",
        expect=frozenset({NO_ANSWER}),
        why=("A response (its reason phrase unusual but legal) that matches no transaction: "
             "nothing answers a response."),
        message=_lines(
            # the reason phrase goes on in UTF-8 (Russian)
            b"SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe \xd1\x81\xd1\x82\xd0\xbe "
            b"\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd0\xbd\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe "
            b"\xd0\xb4\xd0\xb5\xd0\xb2\xd1\x8f\xd1\x82\xd1\x8c - "
            b"\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x82\xd0\xbe\xd0\xb5",
            "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923",
            "Call-ID: unreason.1234ksdfak3j2erwedfsASdf",
            "CSeq: 35 INVITE",
            "From: sip:user@example.com;tag=11141343",
            "To: sip:user@example.edu;tag=2229",
            "Content-Length: {{length}}",
            "Content-Type: application/sdp",
            "Contact: <sip:user@{{peer}}>",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="noreason",
        section="3.1.1.13",
        title="Empty Reason Phrase",
        expect=frozenset({NO_ANSWER}),
        why=("A 100 with an empty reason phrase that matches no transaction: nothing "
             "answers a response."),
        message=_lines(
            "SIP/2.0 100 ",
            "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
            "Call-ID: noreason.asndj203insdf99223ndf",
            "CSeq: 35 INVITE",
            "From: <sip:user@example.com>;tag=39ansfi3",
            "To: <sip:user@example.edu>;tag=902jndnke3",
            "Content-Length: 0",
            "Contact: <sip:user@{{peer}}>",
            "",
            "",
        ),
    ),
    # --- 3.1.2 Invalid messages ------------------------------------------------------------------
    Torture(
        name="badinv01",
        section="3.1.2.1",
        title="Extraneous Header Field Separators",
        expect=frozenset({400}),
        why="Empty parameters in Via and Contact make the request invalid: 400.",
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;tag=134161461246",
            "Max-Forwards: 7",
            "Call-ID: badinv01.0ha0isndaksdjasdf3234nas",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {{peer}};;,;,,",
            "Contact: \"Joe\" <sip:joe@{{peer}}>;;;;",
            "Content-Length: {{length}}",
            "Content-Type: application/sdp",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="clerr",
        section="3.1.2.2",
        title="Content Length Larger Than Message",
        expect=frozenset({400}),
        why="Over UDP, a Content-Length larger than the body that arrived is answered 400.",
        # The wrong Content-Length is the test: it stays 9999.
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "Max-Forwards: 80",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;tag=93942939o2",
            "Contact: <sip:caller@{{peer}}>",
            "Call-ID: clerr.0ha0isndaksdjweiafasdk3",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bK-39234-23523",
            "Content-Type: application/sdp",
            "Content-Length: 9999",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="ncl",
        section="3.1.2.3",
        title="Negative Content-Length",
        expect=frozenset({400}),
        why="A negative Content-Length is an error to answer (400); nothing is read by it.",
        # The negative Content-Length is the test: it stays -999.
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "Max-Forwards: 254",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;tag=32394234",
            "Call-ID: ncl.0ha0isndaksdj2193423r542w35",
            "CSeq: 0 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Contact: <sip:caller@{{peer}}>",
            "Content-Type: application/sdp",
            "Content-Length: -999",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="scalar02",
        section="3.1.2.4",
        title="Request Scalar Fields with Overlarge Values",
        expect=frozenset({400, 405}),
        why=("CSeq beyond 2**32-1 calls for 400; as no registrar a UAS may also refuse the "
             "REGISTER itself with 405."),
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bK342sdfoi3;rport",
            "To: <sip:user@example.com>",
            "From: <sip:user@example.com>;tag=239232jh3",
            "CSeq: 36893488147419103232 REGISTER",
            "Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32",
            "Max-Forwards: 300",
            "Expires: 1" + "0" * 100,
            "Contact: <sip:user@host129.example.com>",
            "  ;expires=280297596632815",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="scalarlg",
        section="3.1.2.5",
        title="Response Scalar Fields with Overlarge Values",
        expect=frozenset({NO_ANSWER}),
        why="A response with out-of-range scalar values is simply discarded.",
        message=_lines(
            "SIP/2.0 503 Service Unavailable",
            "Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129",
            "To: <sip:user@example.com>",
            "From: <sip:other@example.net>;tag=2easdjfejw",
            "CSeq: 9292394834772304023312 OPTIONS",
            "Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r",
            "Retry-After: 949302838503028349304023988",
            "Warning: 1812 overture \"In Progress\"",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="quotbal",
        section="3.1.2.6",
        title="Unterminated Quoted String in Display Name",
        expect=frozenset({200, 400}),
        why=("An unterminated quoted display name: 400, unless the element infers the "
             "closing quote and takes the call."),
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "To: \"Mr. J. User <sip:j.user@example.com>",
            "From: sip:caller@example.net;tag=93334",
            "Max-Forwards: 10",
            "Call-ID: quotbal.aksdj",
            "Contact: <sip:caller@{{peer}}>",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw39234",
            "Content-Type: application/sdp",
            "Content-Length: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="ltgtruri",
        section="3.1.2.7",
        title="<> Enclosing Request-URI",
        expect=frozenset({200, 400}),
        why=("A Request-URI inside <> is invalid: 400, or the brackets are ignored and the "
             "call taken."),
        # The top Via has no branch in the RFC; it keeps none.
        message=_lines(
            "INVITE <sip:user@example.com> SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=39291",
            "Max-Forwards: 23",
            "Call-ID: ltgtruri.1@192.0.2.5",
            "CSeq: 1 INVITE",
            "Via: SIP/2.0/UDP {{peer}}",
            "Contact: <sip:caller@{{peer}}>",
            "Content-Type: application/sdp",
            "Content-Length: {{length}}",
            "",
            *_RFC_SDP,
        ),
    ),
    Torture(
        name="lwsruri",
        section="3.1.2.8",
        title="Malformed SIP Request-URI (embedded LWS)",
        expect=frozenset({200, 400}),
        why="LWS inside the Request-URI: 400, or a liberal element ignores it and takes the call.",
        message=_lines(
            "INVITE sip:user@example.com; lr SIP/2.0",
            "To: sip:user@example.com;tag=3xfe-9921883-z9f",
            "From: sip:caller@example.net;tag=231413434",
            "Max-Forwards: 5",
            "Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423",
            "CSeq: 2130706432 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw2395",
            "Contact: <sip:caller@{{peer}}>",
            "Content-Type: application/sdp",
            "Content-Length: {{length}}",
            "",
            *_RFC_SDP,
        ),
    ),
    Torture(
        name="lwsstart",
        section="3.1.2.9",
        title="Multiple SP Separating Request-Line Elements",
        expect=frozenset({200, 400}),
        why="Several SP between request-line elements: reject as malformed, or ignore them.",
        message=_lines(
            "INVITE  sip:user@example.com  SIP/2.0",
            "Max-Forwards: 8",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=8814",
            "Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com",
            "CSeq: 1893884 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw3923",
            "Contact: <sip:caller@{{peer}}>",
            "Content-Type: application/sdp",
            "Content-Length: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="trws",
        section="3.1.2.10",
        title="SP Characters at End of Request-Line",
        expect=frozenset({200, 400}),
        why="SP after the SIP-Version: reject as malformed, or ignore it and answer the OPTIONS.",
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "OPTIONS sip:remote-target@example.com SIP/2.0  ",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bK299342093;rport",
            "To: <sip:remote-target@example.com>",
            "From: <sip:local-resource@example.com>;tag=329429089",
            "Call-ID: trws.oicu34958239neffasdhr2345r",
            "Accept: application/sdp",
            "CSeq: 238923 OPTIONS",
            "Max-Forwards: 70",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="escruri",
        section="3.1.2.11",
        title="Escaped Headers in SIP Request-URI",
        expect=frozenset({200, 400}),
        why="Escaped headers in a Request-URI: 400, or they are ignored and the call taken.",
        message=_lines(
            "INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=341518",
            "Max-Forwards: 7",
            "Contact: <sip:caller@{{peer}}>",
            "Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
            "CSeq: 149209342 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Content-Type: application/sdp",
            "Content-Length: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="baddate",
        section="3.1.2.12",
        title="Invalid Time Zone in Date Header Field",
        expect=frozenset({200, 400}),
        why=("A non-GMT Date: rejecting is allowed, but an element that does not use Date "
             "should ignore it."),
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=2234923",
            "Max-Forwards: 70",
            "Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234",
            "CSeq: 1392934 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Date: Fri, 01 Jan 2010 16:00:00 EST",
            "Contact: <sip:caller@{{peer}}>",
            "Content-Type: application/sdp",
            "Content-Length: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="regbadct",
        section="3.1.2.13",
        title="Failure to Enclose name-addr URI in <>",
        expect=frozenset({400, 405}),
        why=("A Contact URI with an escaped header but no <>: 400, or inferred and "
             "processed, which for a UAS that is no registrar means 405."),
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:user@example.com;tag=998332",
            "Max-Forwards: 70",
            "Call-ID: regbadct.k345asrl3fdbv@10.0.0.1",
            "CSeq: 1 REGISTER",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="badaspec",
        section="3.1.2.14",
        title="Spaces within addr-spec",
        expect=frozenset({200, 400}),
        why="Spaces inside an addr-spec: 400, or a liberal element ignores them.",
        message=_lines(
            "OPTIONS sip:user@example.org SIP/2.0",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdju43234",
            "Max-Forwards: 70",
            "From: \"Bell, Alexander\" <sip:a.g.bell@example.com>;tag=433423",
            "To: \"Watson, Thomas\" < sip:t.watson@example.org >",
            "Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3",
            "Accept: application/sdp",
            "CSeq: 3923239 OPTIONS",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="baddn",
        section="3.1.2.15",
        title="Non-token Characters in Display Name",
        expect=frozenset({200, 400}),
        why="Unquoted display names with non-token characters: 400, or the quotes are inferred.",
        # The RFC's archive has no empty line after the last header of this one message; kept so.
        message=_lines(
            "OPTIONS sip:t.watson@example.org SIP/2.0",
            "Via:     SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Max-Forwards:      70",
            "From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "To:      Watson, Thomas <sip:t.watson@example.org>",
            "Call-ID: baddn.31415@c.example.com",
            "Accept: application/sdp",
            "CSeq:    3923239 OPTIONS",
            "l: 0",
            "",
        ),
    ),
    Torture(
        name="badvers",
        section="3.1.2.16",
        title="Unknown Protocol Version",
        expect=frozenset({505}),
        why="SIP/7.0 is answered 505 Version Not Supported.",
        message=_lines(
            "OPTIONS sip:t.watson@example.org SIP/7.0",
            "Via:     SIP/7.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Max-Forwards:     70",
            "From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe",
            "To:      T. Watson <sip:t.watson@example.org>",
            "Call-ID: badvers.31417@c.example.com",
            "CSeq:    1 OPTIONS",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="mismatch01",
        section="3.1.2.17",
        title="Start Line and CSeq Method Mismatch",
        expect=frozenset({400}),
        why="The CSeq method differs from the request line's: 400 from any element.",
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;tag=34525",
            "Max-Forwards: 6",
            "Call-ID: mismatch01.dj0234sxdfl3",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="mismatch02",
        section="3.1.2.18",
        title="Unknown Method with CSeq Method Mismatch",
        expect=frozenset({400, 501}),
        why="An unknown method whose CSeq names INVITE: 501 preferred, 400 acceptable.",
        message=_lines(
            "NEWMETHOD sip:user@example.com SIP/2.0",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;tag=34525",
            "Max-Forwards: 6",
            "Call-ID: mismatch02.dj0234sxdfl3",
            "CSeq: 8 INVITE",
            "Contact: <sip:caller@{{peer}}>",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Content-Type: application/sdp",
            "l: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "c=IN IP4 {{host}}",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="bigcode",
        section="3.1.2.19",
        title="Overlarge Response Code",
        expect=frozenset({NO_ANSWER}),
        why="A response code above 699 is dropped.",
        message=_lines(
            "SIP/2.0 4294967301 better not break the receiver",
            "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe",
            "Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i",
            "CSeq: 353494 INVITE",
            "From: <sip:user@example.com>;tag=39ansfi3",
            "To: <sip:user@example.edu>;tag=902jndnke3",
            "Content-Length: 0",
            "Contact: <sip:user@{{peer}}>",
            "",
            "",
        ),
    ),
    # --- 3.2 Transaction layer semantics ---------------------------------------------------------
    Torture(
        name="badbranch",
        section="3.2.1",
        title="Missing Transaction Identifier",
        expect=frozenset({200, 400}),
        why=("The magic cookie with no transaction id after it: 400, or fall back to RFC "
             "2543 matching and answer."),
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.org;tag=33242",
            "Max-Forwards: 3",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bK",
            "Accept: application/sdp",
            "Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n",
            "CSeq: 8 OPTIONS",
            "l: 0",
            "",
            "",
        ),
    ),
    # --- 3.3 Application-layer semantics ---------------------------------------------------------
    Torture(
        name="insuf",
        section="3.3.1",
        title="Missing Required Header Fields",
        expect=frozenset({400}),
        why="No Call-ID, From or To: nothing may break, and the ideal answer is 400.",
        # With no Call-ID to match, the test takes any final answer on the peer's socket.
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "CSeq: 193942 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdj.insuf",
            "Content-Type: application/sdp",
            "l: {{length}}",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="unkscm",
        section="3.3.2",
        title="Request-URI with Unknown Scheme",
        expect=frozenset({416}),
        why="A Request-URI scheme nobody knows is answered 416.",
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=384",
            "Max-Forwards: 3",
            "Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34",
            "CSeq: 3923423 OPTIONS",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bKkdjuw39234;rport",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="novelsc",
        section="3.3.3",
        title="Request-URI with Known but Atypical Scheme",
        expect=frozenset({416}),
        why=("A registered scheme this element never accepts in a Request-URI is treated as "
             "unknown: 416."),
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=384",
            "Max-Forwards: 3",
            "Call-ID: novelsc.asdfasser0q239nwsdfasdkl34",
            "CSeq: 3923423 OPTIONS",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bKkdjuw39234;rport",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="unksm2",
        section="3.3.4",
        title="Unknown URI Schemes in Header Fields",
        expect=frozenset({400, 405}),
        why=("Non-SIP URIs in To and Contact would make a registrar answer 400; a UAS that "
             "is no registrar answers 405."),
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "To: isbn:2983792873",
            "From: <http://www.example.com>;tag=3234233",
            "Call-ID: unksm2.daksdj@hyphenated-host.example.com",
            "CSeq: 234902 REGISTER",
            "Max-Forwards: 70",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Contact: <name:John_Smith>",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="bext01",
        section="3.3.5",
        title="Proxy-Require and Require",
        expect=frozenset({420}),
        why=("Unsupported Require options get 420 listing them; Proxy-Require is not a "
             "UAS's concern."),
        # The top Via names TLS; see the module docstring for the added rport.
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:j_user@example.com",
            "From: sip:caller@example.net;tag=242etr",
            "Max-Forwards: 6",
            "Call-ID: bext01.0ha0isndaksdj",
            "Require: nothingSupportsThis, nothingSupportsThisEither",
            "Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis",
            "CSeq: 8 OPTIONS",
            "Via: SIP/2.0/TLS {{peer}};branch=z9hG4bKkdjuw;rport",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="invut",
        section="3.3.6",
        title="Unknown Content-Type",
        expect=frozenset({415}),
        why="An endpoint answers a body type it does not understand with 415.",
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "Contact: <sip:caller@{{peer}}>",
            "To: sip:j.user@example.com",
            "From: sip:caller@example.net;tag=8392034",
            "Max-Forwards: 70",
            "Call-ID: invut.0ha0isndaksdjadsfij34n23d",
            "CSeq: 235448 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Content-Type: application/unknownformat",
            "Content-Length: 40",
            "",
            "<audio>",
            " <pcmu port=\"443\"/>",
            "</audio>",
            "",
        ),
    ),
    Torture(
        name="regaut01",
        section="3.3.7",
        title="Unknown Authorization Scheme",
        expect=frozenset({405}),
        why=("An unknown Authorization scheme is no reason to fail; an endpoint that is no "
             "registrar answers 405."),
        # The top Via names TCP; see the module docstring for the added rport.
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "To: sip:j.user@example.com",
            "From: sip:j.user@example.com;tag=87321hj23128",
            "Max-Forwards: 8",
            "Call-ID: regaut01.0ha0isndaksdj",
            "CSeq: 9338 REGISTER",
            "Via: SIP/2.0/TCP {{peer}};branch=z9hG4bKkdjuw;rport",
            "Authorization: NoOneKnowsThisScheme opaque-data=here",
            "Content-Length:0",
            "",
            "",
        ),
    ),
    Torture(
        name="multi01",
        section="3.3.8",
        title="Multiple Values in Single Value Required Fields",
        expect=frozenset({400}),
        why="Several values for single-value headers (CSeq, Call-ID, To, From, Max-Forwards): 400.",
        # Both Call-IDs are matched: the server may echo either.
        message=_lines(
            "INVITE sip:user@company.com SIP/2.0",
            "Contact: <sip:caller@{{peer}}>",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "CSeq: 5 INVITE",
            "Call-ID: multi01.98asdh@192.0.2.1",
            "CSeq: 59 INVITE",
            "Call-ID: multi01.98asdh@192.0.2.2",
            "From: sip:caller@example.com;tag=3413415",
            "To: sip:user@example.com",
            "To: sip:other@example.net",
            "From: sip:caller@example.net;tag=2923420123",
            "Content-Type: application/sdp",
            "l: {{length}}",
            "Contact: <sip:caller@{{peer}}>",
            "Max-Forwards: 5",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
            "",
        ),
    ),
    Torture(
        name="mcl01",
        section="3.3.9",
        title="Multiple Content-Length Values",
        expect=frozenset({400}),
        why=("Two disagreeing Content-Length values leave the framing unknown: answer with "
             "an error."),
        # The conflicting lengths 13 and 5 are the test: both stay.
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bK293423",
            "To: sip:user@example.com",
            "From: sip:other@example.net;tag=3923942",
            "Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf",
            "CSeq: 15932 OPTIONS",
            "Content-Length: 13",
            "Max-Forwards: 60",
            "Content-Length: 5",
            "Content-Type: text/plain",
            "",
            "There's no way to know how many octets are supposed to be here.",
            "",
            "",
        ),
    ),
    Torture(
        name="bcast",
        section="3.3.10",
        title="200 OK Response with Broadcast Via Header Field Value",
        expect=frozenset({NO_ANSWER}),
        why="A 200 whose second Via is a broadcast address: an endpoint discards it.",
        # Both Vias stay: the broadcast address is the test, and no one answers a response.
        message=_lines(
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923",
            "Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23",
            "Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf",
            "CSeq: 35 INVITE",
            "From: sip:user@example.com;tag=11141343",
            "To: sip:user@example.edu;tag=2229",
            "Content-Length: {{length}}",
            "Content-Type: application/sdp",
            "Contact: <sip:user@{{peer}}>",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    Torture(
        name="zeromf",
        section="3.3.11",
        title="Max-Forwards of Zero",
        expect=frozenset({200}),
        why="Max-Forwards 0 stops proxies, not endpoints: the OPTIONS is processed as usual.",
        message=_lines(
            "OPTIONS sip:user@example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:caller@example.net;tag=3ghsd41",
            "Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas",
            "CSeq: 39234321 OPTIONS",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw2349i",
            "Max-Forwards: 0",
            "Content-Length: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="cparam01",
        section="3.3.12",
        title="REGISTER with a Contact Header Parameter",
        expect=frozenset({405}),
        why=("The parameter belongs to the Contact, not its URI; a UAS that is no registrar "
             "answers 405."),
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe",
            "To: sip:watson@example.com",
            "Call-ID: cparam01.70710@saturn.example.com",
            "CSeq: 2 REGISTER",
            "Contact: sip:+19725552222@gw1.example.net;unknownparam",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="cparam02",
        section="3.3.13",
        title="REGISTER with a url-parameter",
        expect=frozenset({405}),
        why="The parameter belongs to the Contact's URI; a UAS that is no registrar answers 405.",
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Max-Forwards: 70",
            "From: sip:watson@example.com;tag=838293",
            "To: sip:watson@example.com",
            "Call-ID: cparam02.70710@saturn.example.com",
            "CSeq: 3 REGISTER",
            "Contact: <sip:+19725552222@gw1.example.net;unknownparam>",
            "l: 0",
            "",
            "",
        ),
    ),
    Torture(
        name="regescrt",
        section="3.3.14",
        title="REGISTER with a URL Escaped Header",
        expect=frozenset({405}),
        why=("A Contact URI with an escaped header is legal; a UAS that is no registrar "
             "answers 405."),
        message=_lines(
            "REGISTER sip:example.com SIP/2.0",
            "To: sip:user@example.com",
            "From: sip:user@example.com;tag=8",
            "Max-Forwards: 70",
            "Call-ID: regescrt.k345asrl3fdbv@192.0.2.1",
            "CSeq: 14398234 REGISTER",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>",
            "L:0",
            "",
            "",
        ),
    ),
    Torture(
        name="sdp01",
        section="3.3.15",
        title="Unacceptable Accept Offering",
        expect=frozenset({400, 406}),
        why=("Accept rules out SDP, the only answer an INVITE can get: 406, or 400 since "
             "every UA must support SDP."),
        message=_lines(
            "INVITE sip:user@example.com SIP/2.0",
            "To: sip:j_user@example.com",
            "Contact: <sip:caller@{{peer}}>",
            "From: sip:caller@example.net;tag=234",
            "Max-Forwards: 5",
            "Call-ID: sdp01.ndaksdj9342dasdd",
            "Accept: text/nobodyKnowsThis",
            "CSeq: 8 INVITE",
            "Via: SIP/2.0/UDP {{peer}};branch=z9hG4bKkdjuw",
            "Content-Length: {{length}}",
            "Content-Type: application/sdp",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0 12",
            "m=video 3227 RTP/AVP 31",
            "a=rtpmap:31 LPC",
            "",
        ),
    ),
    # --- 3.4 Backward compatibility --------------------------------------------------------------
    Torture(
        name="inv2543",
        section="3.4.1",
        title="INVITE with RFC 2543 Syntax",
        expect=frozenset({200, 400}),
        why=("RFC 2543 style (no branch, no From tag, no Content-Length, no Max-Forwards) "
             "should be accepted; it also lacks the Contact RFC 3261 requires, so a 400 for "
             "that is defensible."),
        # The Record-Route's host and maddr are the test peer's, so that nothing the server
        # might send along the route set leaves loopback.
        message=_lines(
            "INVITE sip:UserB@example.com SIP/2.0",
            "Via: SIP/2.0/UDP {{peer}}",
            "From: <sip:+13035551111@ift.client.example.net;user=phone>",
            "Record-Route: <sip:UserB@{{peer}};maddr={{host}}>",
            "To: sip:+16505552222@ss1.example.net;user=phone",
            "Call-ID: inv2543.1717@ift.client.example.com",
            "CSeq: 56 INVITE",
            "Content-Type: application/sdp",
            "",
            "v=0",
            "o=mhandley 29739 7272939 IN IP4 {{host}}",
            "s=-",
            "c=IN IP4 {{host}}",
            "t=0 0",
            "m=audio 49217 RTP/AVP 0",
            "",
        ),
    ),
)

