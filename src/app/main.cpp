#include "app/cli.h"

int main(int argc, char** argv) { return bitline::app::run_cli(argc, argv); }
