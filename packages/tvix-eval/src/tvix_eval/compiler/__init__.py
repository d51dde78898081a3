"""The compiler: syntax tree -> tree of Python closures, after static scope resolution.

Entry point: :class:`tvix_eval.compiler.compiler.Compiler`. ``code`` defines the compiled form,
``scope`` the static resolution, ``bindings`` sets and ``let``, ``operators``/``fastops`` the
operators, ``calls`` applications, ``access`` variable lookups, ``show`` C++-Nix-style rendering
of expressions for error messages.
"""
