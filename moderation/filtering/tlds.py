"""Top-level domains that make a bare word-dot-word look like a link.

Chat text is full of dots that are not links ("e.g.", "3.14", "lol.no"), so a bare
domain (no scheme, no ``www.``) counts as a link only when its last label is a
known top-level domain. The list is curated rather than the full IANA list (which
changes and is not in the standard library): every country code, plus the generic
domains seen in chat spam and everyday links.

Some of those domains are also everyday words; a bare ``word.it`` or ``ok.so`` is far
more often a typo than a link, so they count only when a path, scheme, ``www.`` or
an e-mail address makes the link unmistakable (``youtu.be/xyz``).
"""

_COUNTRY_CODES = """
ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo
br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm
do dz ec ee eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs
gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km
kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp
mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk
pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss
st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va
vc ve vg vi vn vu wf ws ye yt za zm zw
"""

_GENERIC = """
com net org info biz edu gov mil int mobi name pro tel asia jobs travel xxx porn sex
adult cam io app dev ai xyz top club online site shop store live stream tech space
website fun icu vip win bid link click chat world news blog cloud digital email guru
host ink life media network one rocks social today zone art design global group agency
bet casino poker game games play money cash loan loans finance lol wtf tube video tv
page gay lgbt bar rest ltd inc llc biz party date dating cool best buzz wiki kim men
mom moe monster nexus ninja plus quest run sbs cfd ooo wang work
"""

_WORDLIKE = """
am as at be by do id in is it me my no so to us la ma pa
one win fun live life link click chat game games play news art top club shop store
site online world today zone bet cam sex lol wtf best cool date men mom run work bar
rest plus page party kim moe
"""

TLDS = frozenset(_COUNTRY_CODES.split()) | frozenset(_GENERIC.split())
WORDLIKE_TLDS = frozenset(_WORDLIKE.split())
