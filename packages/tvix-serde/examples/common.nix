{
  basePort = 8080;
  features = [ "search" "recommendations" ];
}
