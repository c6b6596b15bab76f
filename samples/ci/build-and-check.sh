#!/usr/bin/env bash
# CI sample: build a port that uses XenPreemptAnalyzers so that any XPA finding fails the job, and keep a SARIF
# 2.1.0 log of every finding for code scanning. Run from the repository root:
#   samples/ci/build-and-check.sh [project]          (default: samples/KernelPortFixed, which is clean)
# Exit code: the build's (1 when an XPA rule fires). The SARIF file is written next to the project file.
set -uo pipefail
project="${1:-samples/KernelPortFixed}"

# The package must be in the local folder the samples restore from (a real pipeline restores it from its feed).
dotnet pack src/XenPreemptAnalyzers.Package -o samples/local-feed -nologo -v:q || exit 3

# -warnaserror:<ids> fails the build on the XPA rules only; other warnings stay warnings.
# ErrorLog writes SARIF; the comma before version must be escaped as %2C on the command line.
dotnet build "$project" -nologo --no-incremental \
  -warnaserror:XPA0001,XPA0002,XPA0004,XPA0005,XPA0006 \
  "-p:ErrorLog=xpa.sarif%2Cversion=2.1"
status=$?
echo "SARIF: $(ls "$project"/xpa.sarif 2>/dev/null || echo 'not written')"
exit "$status"
