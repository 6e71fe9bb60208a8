# wallet_ops: PGXS build.
#
#   make && sudo make install        build and install the extension and
#                                    the wallet_ops_verify command
#   make installcheck                pg_regress, isolation and TAP tests,
#                                    each against a temporary instance
#
# The install script wallet_ops--$(EXTVERSION).sql is assembled from the
# pieces in src/sql/, one per concern, in file-name order.  Released
# install scripts (wallet_ops--1.0.0.sql) are kept as released, never
# edited; every change after a release goes into src/sql/ and into the
# upgrade script wallet_ops--<released>--$(EXTVERSION).sql as well.

EXTENSION = wallet_ops
EXTVERSION = 1.1.0

MODULE_big = wallet_ops
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA = $(EXTENSION)--1.0.0.sql $(wildcard $(EXTENSION)--*--*.sql)

PG_CONFIG ?= pg_config

PG_CPPFLAGS = -I$(srcdir)/src
SHLIB_LINK = -lcrypto

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-config=$(srcdir)/wallet_ops.conf --temp-instance=./tmp_check_regress

ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))
ISOLATION_OPTS = --temp-config=$(srcdir)/wallet_ops.conf --temp-instance=./tmp_check_isolation

TAP_TESTS = 1

# Test databases are UTF8 whatever the machine's locale.
ENCODING = UTF8
NO_LOCALE = 1

VERIFY_PROGRAM = tools/wallet_ops_verify
EXTRA_CLEAN = $(VERIFY_PROGRAM) tmp_check_regress tmp_check_isolation output_iso $(EXTENSION)-$(EXTVERSION).tar.gz

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql))
	cat $^ > $@

# The outside verifier is an ordinary libpq client; it shares only the
# front-end-safe src/chain_format.h with the server.
$(VERIFY_PROGRAM): tools/wallet_ops_verify.c src/chain_format.h
	$(CC) $(CFLAGS) -I$(includedir) -I$(srcdir)/src $(CPPFLAGS) -DWALLET_OPS_VERSION='"$(EXTVERSION)"' -o $@ $< -L$(libdir) $(LDFLAGS) -lpq -lcrypto

all: $(VERIFY_PROGRAM)

# its manual page goes where the server's are: $(pg_config --mandir)/man1
VERIFY_MAN = docs/man/wallet_ops_verify.1

install: install-verify
install-verify: $(VERIFY_PROGRAM) installdirs
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(VERIFY_PROGRAM) '$(DESTDIR)$(bindir)/wallet_ops_verify'
	$(MKDIR_P) '$(DESTDIR)$(mandir)/man1'
	$(INSTALL_DATA) $(srcdir)/$(VERIFY_MAN) '$(DESTDIR)$(mandir)/man1/wallet_ops_verify.1'

uninstall: uninstall-verify
uninstall-verify:
	rm -f '$(DESTDIR)$(bindir)/wallet_ops_verify' '$(DESTDIR)$(mandir)/man1/wallet_ops_verify.1'

.PHONY: install-verify uninstall-verify

# make dist: $(EXTENSION)-$(EXTVERSION).tar.gz, the sources (the files git
# tracks; in a copy without .git, every file but what a build or a test
# leaves) and the install script META.json's provides.file names, under
# one directory $(EXTENSION)-$(EXTVERSION)/.
DIST = $(EXTENSION)-$(EXTVERSION)
dist: $(EXTENSION)--$(EXTVERSION).sql
	rm -rf '$(DIST)' '$(DIST).tar.gz'
	mkdir '$(DIST)'
	cd '$(srcdir)' && { git ls-files 2>/dev/null || find . -type f \
	  ! -path './.git/*' ! -path './tmp_check*' ! -path './results/*' ! -path './output_iso/*' \
	  ! -path './log/*' ! -path './bench/results/*' ! -path './.private-pg/*' ! -path './$(DIST)*' \
	  ! -name '*.o' ! -name '*.so' ! -name '*.bc' ! -name 'regression.*' ! -name '*.tar.gz' \
	  ! -path './tools/wallet_ops_verify' ! -path './$(EXTENSION)--$(EXTVERSION).sql' | sed 's|^\./||'; } | \
	  tar -cf - -T - | tar -C '$(CURDIR)/$(DIST)' -xf -
	cp $(EXTENSION)--$(EXTVERSION).sql '$(DIST)/'
	tar -czf '$(DIST).tar.gz' '$(DIST)'
	rm -rf '$(DIST)'
	@echo 'dist: $(DIST).tar.gz'

.PHONY: dist
