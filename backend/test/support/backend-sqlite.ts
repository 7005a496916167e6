// The sqlite project's setup file: test files read TEST_BACKEND when they load. A worker runs
// files of both projects, so each project says its back end instead of inheriting the last one.
process.env.TEST_BACKEND = 'sqlite';
